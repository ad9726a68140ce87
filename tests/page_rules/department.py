PAGES = {("GET", "/referrals"): {"department"}, ("POST", "/referrals/{match_id:int}"): {"department"}}
