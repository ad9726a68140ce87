"""Tables and vocabularies: codes validated, datetimes aware, versions bumped, migrations complete."""

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError
from sqlmodel import Session

from matching import db, vocab
from matching.models import CareLeaver, CareLeaverCreate, CareLeaverUpdate, Department, OpportunityCreate


def person(**overrides) -> dict:
    return {"case_reference": "CL1", "first_name": "Ana", "date_of_birth": date(2005, 1, 1),
            "leaving_care_category": "former_relevant"} | overrides


def test_accommodation_codes_follow_the_903_list():
    assert {"U1", "U2", "S2", "X2", "0"} <= set(vocab.ACCOMMODATION)
    assert not {"S1", "X1", "U3", "U"} & set(vocab.ACCOMMODATION)
    assert len(vocab.ACCOMMODATION) == 31  # rule 133's list


@pytest.mark.parametrize("field,value", [("in_touch", "MAYBE"), ("current_activity", "F3"), ("sex", "9"),
                                         ("ethnicity", "WHITE"), ("accommodation", "S1"),
                                         ("leaving_care_category", "orphan"), ("days_available", ["funday"]),
                                         ("home_area", "not a postcode"), ("qualification_level", 9)])
def test_codes_outside_the_vocabularies_are_refused(field, value):
    with pytest.raises(ValidationError) as error:
        CareLeaverCreate(**person(**{field: value}))
    assert error.value.errors()[0]["loc"][0] == field


def test_tags_and_outcodes_are_normalised():
    created = CareLeaverCreate(**person(interests=[" Music", "music", "", "Art "], home_area=" sw1a "))
    assert created.interests == ["music", "art"] and created.home_area == "SW1A"


def test_update_models_validate_like_create_and_allow_leaving_fields_out():
    assert CareLeaverUpdate(version=3).model_dump(exclude_unset=True) == {"version": 3}
    with pytest.raises(ValidationError):
        CareLeaverUpdate(version=3, in_touch="MAYBE")
    with pytest.raises(ValidationError):
        CareLeaverUpdate(in_touch="YES")  # the version is required


def test_opportunity_age_and_date_ranges():
    base = {"reference": "R1", "department_id": 1, "kind": "job", "title": "Clerk"}
    with pytest.raises(ValidationError, match="min_age"):
        OpportunityCreate(**base, min_age=21, max_age=19)
    with pytest.raises(ValidationError, match="closes_on"):
        OpportunityCreate(**base, closes_on=date(2027, 2, 1), starts_on=date(2027, 1, 1))
    assert OpportunityCreate(**base | {"kind": "apprenticeship"}).paid
    assert not OpportunityCreate(**base | {"kind": "work_experience"}).paid


def test_datetimes_come_back_aware_utc_and_versions_bump(engine):
    with db.session_scope(db.writer(engine)) as session:
        record = CareLeaver(**CareLeaverCreate(**person()).model_dump())
        session.add(record)
    with Session(engine) as session:
        loaded = session.get(CareLeaver, record.id)
        assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset().total_seconds() == 0
        assert loaded.version == 1
        loaded.first_name = "Anna"
        session.commit()
        assert loaded.version == 2


def test_naive_datetimes_are_refused(engine):
    with pytest.raises(Exception, match="naive"), db.session_scope(db.writer(engine)) as session:
        session.add(Department(name="Legal", code="LEG", closed_at=datetime(2026, 1, 1)))
    with db.session_scope(db.writer(engine)) as session:
        session.add(Department(name="Legal", code="LEG", closed_at=datetime(2026, 1, 1, tzinfo=UTC)))


def test_migrations_match_the_models(database_url):
    db.check(database_url)  # raises when a model changed without a migration (alembic check)
