"""The local offer: a public page for young people (no sign-in, in their languages) and a manager's pages to
keep its items (add, change, retire and bring back).

The public page shows the council's entitlements and nothing about anyone. Its words come from message
catalogues the council can edit (api/i18n.py, docs/translations.md); the items themselves are the
council's data, entered in English, so the page says in each language that their details are in English.
Changes to the items are audited as other records' changes are (entity "offer_item").
"""

from copy import copy
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import create_model, field_validator
from pydantic_core import PydanticUndefined
from sqlmodel import Session, select

from api import forms, i18n
from api.deps import UnitOfWork
from api.forms import Posted
from api.pages.common import done, page, roles, tell
from api.records import audit_change
from matching import offer
from matching.errors import DomainError
from matching.models import OfferItem, OfferItemCreate

# Public: no sign-in, and the session sign-in middleware is skipped (as mentor sign-up's pages).
OPEN = {"public": True, "exclude_from_auth": True}
MANAGER = roles("manager")
ITEMS = "/local-offer/items"
AUDITED = "offer_item"


@get("/local-offer", sync_to_thread=True, opt=OPEN)
def public_offer(request: Request, uow: NamedDependency[UnitOfWork], lang: FromQuery[str] = "") -> Template:
    """Every active item: what it is, who qualifies (its rule and ages), and how to ask, in the language
    asked for (`?lang=`), or English."""
    language = i18n.choose(lang)
    with uow.read() as session:
        items = offer.active_items(session)
    return page(request, "local_offer/public.html", "Support for care leavers", user=None, notice=None,
                items=items, **i18n.template_context(language))


# The manager's pages ----------------------------------------------------------------------------------------

def _titled(name: str, title: str) -> tuple[Any, Any]:
    """One of the API's own fields (OfferItemCreate's, with its checks), titled for people and required."""
    info = copy(OfferItemCreate.model_fields[name])
    info.title = title
    info.default, info.default_factory = PydanticUndefined, None
    return info.annotation, info


TITLES = {"label": "Name of the entitlement", "rule": "Who qualifies",
          "min_age": "Youngest age", "max_age": "Eligible until this birthday"}


def _after_youngest(cls, value: int, info: Any) -> int:
    youngest = info.data.get("min_age")
    if youngest is not None and value <= youngest:
        raise ValueError("Eligible until this birthday must be more than the youngest age")
    return value


# The forms: the API's fields with their checks (a new item's code is checked by OfferItemCreate's own rule),
# titled for people, and an item must be open to at least one age.
_FIELDS = {name: _titled(name, title) for name, title in TITLES.items()}
_AGES = {"after_youngest": field_validator("max_age")(_after_youngest)}
ChangeItem = create_model("ChangeItem", __validators__=_AGES, **_FIELDS)
NewItem = create_model("NewItem", __base__=OfferItemCreate, __validators__=_AGES,
                       code=_titled("code", "Short code"), **_FIELDS)
LABELS = {"code": "Short code", **TITLES}


def _form_page(request: Request, form: forms.Form, item: OfferItem | None = None) -> Template:
    title = f"Change {item.label}" if item else "Add an entitlement to the local offer"
    return page(request, "local_offer/item_form.html", title, form=form, item=item, back=(ITEMS, "Back"))


def _item(session: Session, item_id: int) -> OfferItem:
    item = session.get(OfferItem, item_id)
    if item is None:
        raise NotFoundException("No such item in the local offer")
    return item


@get(ITEMS, sync_to_thread=True, opt=MANAGER)
def item_list(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        items = list(session.exec(select(OfferItem).order_by(OfferItem.active.desc(), OfferItem.id)))
    return page(request, "local_offer/items.html", "The local offer", items=items)


@get(f"{ITEMS}/new", sync_to_thread=True, opt=MANAGER)
def new_item(request: Request) -> Template:
    return _form_page(request, forms.Form())


@post(ITEMS, sync_to_thread=True, opt=MANAGER)
def add_item(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    form = forms.read(NewItem, data)
    if not form.ok:
        return _form_page(request, form)
    with uow.write() as session:
        try:
            item = offer.add_item(session, OfferItemCreate(**form.model.model_dump()))
        except DomainError as error:
            session.rollback()
            return _form_page(request, form.refuse(error, LABELS))
        audit_change(request, session, AUDITED, [item.id], "create")
        label = item.label
    return done(request, ITEMS, f"{label} added to the local offer")


@get(f"{ITEMS}/{{item_id:int}}/edit", sync_to_thread=True, opt=MANAGER)
def edit_item(request: Request, uow: NamedDependency[UnitOfWork], item_id: FromPath[int]) -> Template:
    with uow.read() as session:
        item = _item(session, item_id)
        return _form_page(request, forms.filled(ChangeItem, item.model_dump()), item)


@post(f"{ITEMS}/{{item_id:int}}/edit", sync_to_thread=True, opt=MANAGER)
def change_item(request: Request, uow: NamedDependency[UnitOfWork], item_id: FromPath[int],
                data: Posted) -> Template | Redirect:
    form = forms.read(ChangeItem, data)
    with uow.write() as session:
        item = _item(session, item_id)
        if not form.ok:
            return _form_page(request, form, item)
        try:
            changed = offer.change_item(session, item_id, form.model.model_dump())
        except DomainError as error:
            session.rollback()
            return _form_page(request, form.refuse(error, LABELS), _item(session, item_id))
        audit_change(request, session, AUDITED, [item_id], "update")
        label = changed.label
    return done(request, ITEMS, f"{label} changed")


@get(f"{ITEMS}/{{item_id:int}}/retire", sync_to_thread=True, opt=MANAGER)
def confirm_retire(request: Request, uow: NamedDependency[UnitOfWork], item_id: FromPath[int]) -> Template | Redirect:
    with uow.read() as session:
        item = _item(session, item_id)
        if not item.active:
            return tell(request, ITEMS, f"{item.label} is already retired")
        return page(request, "local_offer/retire.html", f"Retire {item.label}", item=item, back=(ITEMS, "Back"))


@post(f"{ITEMS}/{{item_id:int}}/retire", sync_to_thread=True, opt=MANAGER)
def retire_item(request: Request, uow: NamedDependency[UnitOfWork], item_id: FromPath[int]) -> Redirect:
    return _set_active(request, uow, item_id, active=False)


@post(f"{ITEMS}/{{item_id:int}}/restore", sync_to_thread=True, opt=MANAGER)
def restore_item(request: Request, uow: NamedDependency[UnitOfWork], item_id: FromPath[int]) -> Redirect:
    return _set_active(request, uow, item_id, active=True)


def _set_active(request: Request, uow: UnitOfWork, item_id: int, *, active: bool) -> Redirect:
    with uow.write() as session:
        item = _item(session, item_id)
        label = item.label
        if item.active == active:
            where = "in the offer" if active else "retired"
            return tell(request, ITEMS, f"Nothing changed: {label} is already {where}")
        offer.set_item_active(session, item_id, active)
        audit_change(request, session, AUDITED, [item_id], "restore" if active else "retire")
    if active:
        return done(request, ITEMS, f"{label} is back in the local offer")
    return done(request, ITEMS, f"{label} is retired: young people no longer see it and advisers are not told "
                                "who is missing it. What was recorded for each young person is kept")


ROUTES = [public_offer, item_list, new_item, add_item, edit_item, change_item, confirm_retire, retire_item,
          restore_item]
