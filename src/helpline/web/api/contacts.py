"""REST routes for contacts (customers); every signed-in staff member may use them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from helpline.services import contacts as contact_service
from helpline.web.deps import CurrentUser, DbSession, Now
from helpline.web.schemas.contacts import (
    ContactCreate,
    ContactIdentify,
    ContactList,
    ContactPublic,
    ContactUpdate,
    IdentifyResponse,
)

router = APIRouter(prefix="/contacts", tags=["contacts"])

ContactId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The contact's id")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ContactPublic)
def create_contact(
    payload: ContactCreate, db: DbSession, now: Now, _user: CurrentUser
) -> ContactPublic:
    """Create a customer; 409 when the email or external id is taken."""
    contact = contact_service.do_create_contact(
        db,
        email=payload.email,
        external_id=payload.external_id,
        name=payload.name,
        phone=payload.phone,
        plan=payload.plan,
        language=payload.language,
        lifetime_value_cents=payload.lifetime_value_cents,
        orders_count=payload.orders_count,
        custom_attributes=payload.custom_attributes,
        notes=payload.notes,
        now=now,
    )
    return ContactPublic.of(contact)


@router.get("", response_model=ContactList)
def search_contacts(
    db: DbSession,
    _user: CurrentUser,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ContactList:
    """Newest first; `q` matches name, email, phone or external id."""
    page = contact_service.search_contacts(db, q=q, cursor=cursor, limit=limit)
    return ContactList(
        data=[ContactPublic.of(contact) for contact in page.data],
        count=page.count,
        count_capped=page.count_capped,
        next_cursor=page.next_cursor,
    )


@router.post("/identify", response_model=IdentifyResponse)
def identify_contact(
    payload: ContactIdentify, response: Response, db: DbSession, now: Now, _user: CurrentUser
) -> IdentifyResponse:
    """Find the contact by email and/or external id, or create it (201). Never merges:
    409 `identity_conflict` when the two identifiers belong to different contacts."""
    result = contact_service.do_identify_contact(db, payload.to_identity(), now=now)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    public = ContactPublic.of(result.contact)
    return IdentifyResponse(**public.model_dump(), created=result.created)


@router.get("/{contact_id}", response_model=ContactPublic)
def get_contact(contact_id: ContactId, db: DbSession, _user: CurrentUser) -> ContactPublic:
    return ContactPublic.of(contact_service.access_contact(db, contact_id))


@router.patch("/{contact_id}", response_model=ContactPublic)
def update_contact(
    contact_id: ContactId, payload: ContactUpdate, db: DbSession, now: Now, _user: CurrentUser
) -> ContactPublic:
    changes = payload.model_dump(exclude_unset=True)
    contact = contact_service.do_update_contact(db, contact_id, changes, now=now)
    return ContactPublic.of(contact)
