PAGES = {("GET", "/mentees"): {"mentor"}, ("POST", "/mentees/{match_id:int}/meetings"): {"mentor"}}
