"""The local offer: the public page (no sign-in, any language) and the manager's pages that keep its items."""

MANAGER = {"manager"}
ITEM = "/local-offer/items/{item_id:int}"
PUBLIC = {("GET", "/local-offer")}
PAGES = {
    ("GET", "/local-offer/items"): MANAGER, ("POST", "/local-offer/items"): MANAGER,
    ("GET", "/local-offer/items/new"): MANAGER,
    ("GET", f"{ITEM}/edit"): MANAGER, ("POST", f"{ITEM}/edit"): MANAGER,
    ("GET", f"{ITEM}/retire"): MANAGER, ("POST", f"{ITEM}/retire"): MANAGER,
    ("POST", f"{ITEM}/restore"): MANAGER,
}
