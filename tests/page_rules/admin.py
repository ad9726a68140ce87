PAGES = {("GET", "/people"): {"admin"}}
