PAGES = {("GET", "/caseload"): {"adviser"}}
