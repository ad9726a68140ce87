"""People who sign in: creation with an argon2 password hash, and lookup."""

from argon2 import PasswordHasher
from sqlmodel import Session, select

from matching.errors import InvalidInput
from matching.models import Department, User, UserCreate

hasher = PasswordHasher()


def create_user(session: Session, data: UserCreate) -> User:
    data = UserCreate.model_validate(data)
    if session.exec(select(User).where(User.email == data.email)).first():
        raise InvalidInput("email", f"{data.email} already has an account")
    if data.department_id is not None and session.get(Department, data.department_id) is None:
        raise InvalidInput("department_id", f"no department with id {data.department_id}")
    if data.role in {"department", "mentor"} and data.department_id is None:
        raise InvalidInput("department_id", f"a {data.role} user belongs to a department")
    user = User(**data.model_dump(exclude={"password"}),
                password_hash=hasher.hash(data.password) if data.password else None)
    session.add(user)
    session.flush()
    return user


def by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()
