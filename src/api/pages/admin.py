"""An administrator's pages: the people who sign in (invite, role and department, deactivate and re-activate,
unlock, a new password link), departments and API tokens; and the public page where an invited person
chooses their password through the link they were sent. Every change is audited (entity `user`,
`department` or `api_token`); the rules are in matching/accounts.py."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from api import forms
from api.deps import UnitOfWork, actor_id
from api.forms import Form, Posted
from api.pages.common import done, page, pagination, roles, tell, version
from api.pages.mentor import WorkEmail, needed, said
from api.records import audit_change
from matching import accounts
from matching.errors import DomainError, InvalidInput, NotFound, StaleVersion
from matching.vocab import ROLES

ADMIN = roles("admin")
# The set-password page: no sign-in (the link is the credential), and the session sign-in middleware skipped.
OPEN = {"public": True, "exclude_from_auth": True}
MENU = [("/people", "People"), ("/departments", "Departments"), ("/tokens", "API tokens")]

RoleChoice = Annotated[Literal[tuple(accounts.ASSIGNABLE_ROLES)] | None,  # type: ignore[valid-type]
                       needed("Select their role")]


class PersonDetails(BaseModel):
    """Role and department, as set when inviting someone and when changing them."""

    role: RoleChoice = Field(default=None, title="Role", validate_default=True)
    department_id: int | None = Field(default=None, title="Department")


class Invitation(PersonDetails):
    full_name: str = Field(min_length=2, max_length=120, title="Full name")
    email: Annotated[WorkEmail, Field(title="Email address")]


class PeopleFilter(BaseModel):
    role: Literal[tuple(ROLES)] | None = Field(default=None, title="Role")  # type: ignore[valid-type]
    status: Literal[tuple(accounts.STATUSES)] | None = Field(default=None, title="Status")  # type: ignore[valid-type]
    q: str = Field(default="", max_length=100, title="Search")
    page: int = Field(default=1, ge=1, le=100_000, title="Page")


class NewPassword(BaseModel):
    password: str = Field(min_length=12, max_length=200, title="Your new password")
    password_again: str = Field(title="Your new password again")

    _same = forms.typed_twice("password", "password_again")


class DepartmentForm(BaseModel):
    name: str = Field(min_length=2, max_length=120, title="Name")
    code: str = Field(min_length=2, max_length=16, title="Code")
    contact_email: Annotated[WorkEmail | None, Field(default=None, title="Contact email address")] = None


class DepartmentName(BaseModel):
    name: str = Field(min_length=2, max_length=120, title="Name")


class Reason(BaseModel):
    reason: str = Field(min_length=3, max_length=500, title="Why it is closing")


class NewToken(BaseModel):
    user_id: Annotated[int | None, needed("Select whose token it is")] = Field(
        default=None, title="Whose token it is", validate_default=True)
    name: str = Field(min_length=3, max_length=120, title="What will use it")


def _admin_page(request: Request, template: str, title: str, **context: Any) -> Template:
    return page(request, template, title, admin_menu=MENU, **context)


def _found(load: Callable[[], Any]) -> Any:
    try:
        return load()
    except NotFound as error:
        raise NotFoundException(str(error)) from error


def _audit(request: Request, session, entity: str, record_id: int, action: str, actor: int | None = None) -> None:
    audit_change(request, session, entity, [record_id], action, actor=actor)


def refused(form: Form, error: DomainError, model: type[BaseModel]) -> Form:
    """The refusal beside the field it names, even one left blank (an unchosen select is not posted)."""
    if isinstance(error, InvalidInput) and error.field in model.model_fields:
        form.values.setdefault(error.field, "")
    return said(form, error)


def _service_url(request: Request) -> str:
    return request.app.state.settings.service_url


# --- People -------------------------------------------------------------------------------------------------

@get("/people", sync_to_thread=True, opt=ADMIN)
def people_page(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    form = forms.read(PeopleFilter, dict(request.query_params))
    query = form.model.model_dump() if form.ok else {}
    with uow.read() as session:
        found = accounts.people(session, **query)
    return _admin_page(request, "admin/people.html", "People", form=form, found=found, roles=ROLES,
                       statuses=accounts.STATUSES, filtered=any(query.get(n) for n in ("role", "status", "q")),
                       pagination=pagination("/people", query, found.page, found.pages, "Pages of people"))


def _invite_page(request: Request, uow: UnitOfWork, form: Form) -> Template:
    with uow.read() as session:
        departments = accounts.active_departments(session)
    return _admin_page(request, "admin/invite.html", "Invite someone", form=form, departments=departments,
                       roles=accounts.ASSIGNABLE_ROLES, back=("/people", "Back to people"))


@get("/people/invite", sync_to_thread=True, opt=ADMIN)
def invite_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    return _invite_page(request, uow, Form())


@post("/people/invite", sync_to_thread=True, opt=ADMIN)
def invite(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    form = forms.read(Invitation, data)
    if form.ok:
        details = form.model
        with uow.write() as session:
            try:
                user = accounts.invite(session, full_name=details.full_name, email=details.email,
                                       role=details.role, department_id=details.department_id,
                                       service_url=_service_url(request))
                _audit(request, session, "user", user.id, "invite")
                user_id = user.id
            except DomainError as error:
                session.rollback()
                refused(form, error, Invitation)
    if not form.ok:
        return _invite_page(request, uow, form)
    return done(request, f"/people/{user_id}", f"{details.full_name} was invited: an email with a link to choose "
                                               f"their password is on its way to {details.email}")


@get("/people/{user_id:int}", sync_to_thread=True, opt=ADMIN)
def person_page(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int]) -> Template:
    with uow.read() as session:
        found = _found(lambda: accounts.person(session, user_id))
    return _admin_page(request, "admin/person.html", found["full_name"], person=found, roles=ROLES,
                       statuses=accounts.STATUSES, myself=found["id"] == actor_id(request),
                       back=("/people", "Back to people"))


def _role_page(request: Request, uow: UnitOfWork, user_id: int, form: Form | None = None,
               form_version: int | None = None) -> Template:
    with uow.read() as session:
        found = _found(lambda: accounts.person(session, user_id))
        departments = accounts.active_departments(session)
    form = form or forms.filled(PersonDetails, found)
    return _admin_page(request, "admin/role.html", f"Change {found['full_name']}'s role", form=form,
                       person=found, departments=departments, roles=accounts.ASSIGNABLE_ROLES,
                       version=found["version"] if form_version is None else form_version,
                       back=(f"/people/{user_id}", "Back"))


@get("/people/{user_id:int}/role", sync_to_thread=True, opt=ADMIN)
def role_form(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int]) -> Template:
    return _role_page(request, uow, user_id)


@post("/people/{user_id:int}/role", sync_to_thread=True, opt=ADMIN)
def change_role(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int],
                data: Posted) -> Template | Redirect:
    form = forms.read(PersonDetails, data)
    if form.ok:
        with uow.write() as session:
            try:
                user = _found(lambda: accounts.change_role(
                    session, user_id, role=form.model.role, department_id=form.model.department_id,
                    version=version(data), actor_id=actor_id(request)))
                _audit(request, session, "user", user_id, "change_role")
                name, role = user.full_name, ROLES[user.role]
            except StaleVersion:
                session.rollback()
                return tell(request, f"/people/{user_id}/role", "Nothing was saved: someone changed this person "
                                                                "since you opened the page")
            except DomainError as error:
                session.rollback()
                refused(form, error, PersonDetails)
    if not form.ok:
        return _role_page(request, uow, user_id, form, version(data))
    return done(request, f"/people/{user_id}", f"{name} is now: {role}")


def _step(request: Request, uow: UnitOfWork, user_id: int, action: str, step: Callable, said_done: str) -> Redirect:
    """A one-button change to a person (re-activate, unlock, new password link): done, or why not."""
    with uow.write() as session:
        try:
            user = _found(lambda: step(session, user_id))
            _audit(request, session, "user", user_id, action)
            name = user.full_name
        except DomainError as error:
            session.rollback()
            return tell(request, f"/people/{user_id}", str(error))
    return done(request, f"/people/{user_id}", said_done.format(name=name))


@get("/people/{user_id:int}/deactivate", sync_to_thread=True, opt=ADMIN)
def deactivate_form(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int]) -> Template | Redirect:
    with uow.read() as session:
        found = _found(lambda: accounts.person(session, user_id))
    if found["status"] == "deactivated":
        return tell(request, f"/people/{user_id}", f"{found['full_name']} is already deactivated")
    return _admin_page(request, "admin/deactivate.html", f"Deactivate {found['full_name']}", person=found,
                       form=Form(), back=(f"/people/{user_id}", "Back"))


@post("/people/{user_id:int}/deactivate", sync_to_thread=True, opt=ADMIN)
def deactivate(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int],
               data: Posted) -> Redirect:
    reason = forms.typed(Reason, data).get("reason", "")
    return _step(request, uow, user_id, "deactivate",
                 lambda session, uid: accounts.deactivate(session, uid, actor_id=actor_id(request), reason=reason),
                 "{name} was deactivated and signed out everywhere")


@post("/people/{user_id:int}/activate", sync_to_thread=True, opt=ADMIN)
def activate(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int]) -> Redirect:
    return _step(request, uow, user_id, "activate", accounts.activate, "{name} can sign in again")


@post("/people/{user_id:int}/unlock", sync_to_thread=True, opt=ADMIN)
def unlock(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int]) -> Redirect:
    return _step(request, uow, user_id, "unlock", accounts.unlock, "{name}'s account is unlocked")


@post("/people/{user_id:int}/password-link", sync_to_thread=True, opt=ADMIN)
def password_link(request: Request, uow: NamedDependency[UnitOfWork], user_id: FromPath[int]) -> Redirect:
    return _step(request, uow, user_id, "reset_pw",
                 lambda session, uid: accounts.reset_password(session, uid, service_url=_service_url(request)),
                 "{name} was sent an email with a new link to choose a password")


# --- Choosing a password through a link (no sign-in) ------------------------------------------------------

def _link_page(request: Request, holder: tuple | None, form: Form, link: str) -> Template:
    if holder is None:
        return page(request, "admin/link_expired.html", "This link has expired", status_code=404)
    user, purpose = holder
    return page(request, "admin/set_password.html", "Choose your password", form=form, link=link,
                email=user.email, purpose=purpose)


@get("/set-password/{link:str}", sync_to_thread=True, opt=OPEN)
def set_password_form(request: Request, uow: NamedDependency[UnitOfWork], link: FromPath[str]) -> Template:
    with uow.read() as session:
        return _link_page(request, accounts.link_holder(session, link), Form(), link)


@post("/set-password/{link:str}", sync_to_thread=True, opt=OPEN)
def set_password(request: Request, uow: NamedDependency[UnitOfWork], link: FromPath[str],
                 data: Posted) -> Template | Redirect:
    form = forms.read(NewPassword, data)
    form.values.pop("password", None)  # a password is never typed back into the page
    form.values.pop("password_again", None)
    with uow.write() as session:
        holder = accounts.link_holder(session, link)
        if holder is None or not form.ok:
            return _link_page(request, holder, form, link)
        try:
            user = accounts.set_password(session, link, form.model.password)
        except InvalidInput as refused:  # too easy to guess: said beside the box, the link still works
            return _link_page(request, holder, form.refuse(refused, {"password": "Your new password"}), link)
        _audit(request, session, "user", user.id, "set_password", actor=user.id)
    return done(request, "/sign-in", "Your password is set: sign in with your email address and new password")


# --- Departments ------------------------------------------------------------------------------------------

@get("/departments", sync_to_thread=True, opt=ADMIN)
def departments_page(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = accounts.departments(session)
    return _admin_page(request, "admin/departments.html", "Departments", departments=found)


def _department_form_page(request: Request, form: Form) -> Template:
    return _admin_page(request, "admin/department_new.html", "Add a department", form=form,
                       back=("/departments", "Back to departments"))


@get("/departments/new", sync_to_thread=True, opt=ADMIN)
def department_form(request: Request) -> Template:
    return _department_form_page(request, Form())


@post("/departments/new", sync_to_thread=True, opt=ADMIN)
def add_department(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    form = forms.read(DepartmentForm, data)
    if form.ok:
        with uow.write() as session:
            try:
                added = accounts.add_department(session, name=form.model.name, code=form.model.code,
                                                contact_email=form.model.contact_email)
                _audit(request, session, "department", added.id, "create")
            except DomainError as error:
                session.rollback()
                refused(form, error, DepartmentForm)
    if not form.ok:
        return _department_form_page(request, form)
    return done(request, "/departments", f"{form.model.name} was added")


def _rename_page(request: Request, found: dict, form: Form, form_version: int) -> Template:
    return _admin_page(request, "admin/department_rename.html", f"Rename {found['name']}", form=form,
                       department=found, version=form_version, back=("/departments", "Back to departments"))


@get("/departments/{department_id:int}/rename", sync_to_thread=True, opt=ADMIN)
def rename_form(request: Request, uow: NamedDependency[UnitOfWork], department_id: FromPath[int]) -> Template:
    with uow.read() as session:
        found = _found(lambda: accounts.department(session, department_id))
    return _rename_page(request, found, forms.filled(DepartmentName, found), found["version"])


@post("/departments/{department_id:int}/rename", sync_to_thread=True, opt=ADMIN)
def rename_department(request: Request, uow: NamedDependency[UnitOfWork], department_id: FromPath[int],
                      data: Posted) -> Template | Redirect:
    form = forms.read(DepartmentName, data)
    with uow.write() as session:
        found = _found(lambda: accounts.department(session, department_id))
        if form.ok:
            try:
                accounts.rename_department(session, department_id, name=form.model.name, version=version(data))
                _audit(request, session, "department", department_id, "rename")
            except DomainError as error:
                session.rollback()
                refused(form, error, DepartmentName)
    if not form.ok:
        return _rename_page(request, found, form, version(data))
    return done(request, "/departments", f"{found['name']} is now called {form.model.name}")


def _close_page(request: Request, found: dict, form: Form, form_version: int) -> Template:
    return _admin_page(request, "admin/department_close.html", f"Deactivate {found['name']}", form=form,
                       department=found, version=form_version)


@get("/departments/{department_id:int}/deactivate", sync_to_thread=True, opt=ADMIN)
def close_department_form(request: Request, uow: NamedDependency[UnitOfWork],
                          department_id: FromPath[int]) -> Template | Redirect:
    with uow.read() as session:
        found = _found(lambda: accounts.department(session, department_id))
    if found["status"] != "active":
        return tell(request, "/departments", f"{found['name']} is already deactivated")
    return _close_page(request, found, Form(), found["version"])


@post("/departments/{department_id:int}/deactivate", sync_to_thread=True, opt=ADMIN)
def close_department(request: Request, uow: NamedDependency[UnitOfWork], department_id: FromPath[int],
                     data: Posted) -> Template | Redirect:
    form = forms.read(Reason, data)
    with uow.write() as session:
        found = _found(lambda: accounts.department(session, department_id))
        if form.ok:
            try:
                accounts.deactivate_department(session, department_id, version=version(data),
                                               reason=form.model.reason, actor_id=actor_id(request))
                _audit(request, session, "department", department_id, "deactivate")
            except DomainError as error:
                session.rollback()
                refused(form, error, Reason)
    if not form.ok:
        return _close_page(request, found, form, version(data))
    return done(request, "/departments", f"{found['name']} was deactivated")


# --- API tokens -------------------------------------------------------------------------------------------

@get("/tokens", sync_to_thread=True, opt=ADMIN)
def tokens_page(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = accounts.tokens(session)
    return _admin_page(request, "admin/tokens.html", "API tokens", tokens=found)


def _token_form_page(request: Request, uow: UnitOfWork, form: Form) -> Template:
    with uow.read() as session:
        choices = accounts.active_people(session)
    return _admin_page(request, "admin/token_new.html", "Create an API token", form=form, people=choices,
                       back=("/tokens", "Back to API tokens"))


@get("/tokens/new", sync_to_thread=True, opt=ADMIN)
def token_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    return _token_form_page(request, uow, Form())


@post("/tokens/new", sync_to_thread=True, opt=ADMIN)
def create_token(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template:
    form = forms.read(NewToken, data)
    if form.ok:
        with uow.write() as session:
            try:
                record, secret = accounts.create_token(session, user_id=form.model.user_id, name=form.model.name,
                                                       actor_id=actor_id(request))
                _audit(request, session, "api_token", record.id, "create")
                created = accounts.token(session, record.id)
            except DomainError as error:
                session.rollback()
                refused(form, error, NewToken)
    if not form.ok:
        return _token_form_page(request, uow, form)
    # Shown once, on this page only (never in a redirect, a notice or the session): only its digest is kept.
    return _admin_page(request, "admin/token_created.html", "Your new API token", token=created, secret=secret)


@get("/tokens/{token_id:int}/revoke", sync_to_thread=True, opt=ADMIN)
def revoke_form(request: Request, uow: NamedDependency[UnitOfWork], token_id: FromPath[int]) -> Template | Redirect:
    with uow.read() as session:
        found = _found(lambda: accounts.token(session, token_id))
    if found["revoked_at"]:
        return tell(request, "/tokens", f"The token “{found['name']}” is already revoked")
    return _admin_page(request, "admin/token_revoke.html", f"Revoke the token “{found['name']}”", token=found,
                       back=("/tokens", "Back to API tokens"))


@post("/tokens/{token_id:int}/revoke", sync_to_thread=True, opt=ADMIN)
def revoke_token(request: Request, uow: NamedDependency[UnitOfWork], token_id: FromPath[int]) -> Redirect:
    with uow.write() as session:
        found = _found(lambda: accounts.token(session, token_id))
        try:
            accounts.revoke_token(session, token_id, actor_id=actor_id(request))
            _audit(request, session, "api_token", token_id, "revoke")
        except DomainError as error:
            session.rollback()
            return tell(request, "/tokens", str(error))
    return done(request, "/tokens", f"The token “{found['name']}” was revoked: systems using it are refused")


ROUTES = [people_page, invite_form, invite, person_page, role_form, change_role, deactivate_form, deactivate,
          activate, unlock, password_link, set_password_form, set_password, departments_page, department_form,
          add_department, rename_form, rename_department, close_department_form, close_department, tokens_page,
          token_form, create_token, revoke_form, revoke_token]
