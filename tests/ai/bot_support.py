"""A help center for FAQ-bot tests: three published articles the bot can answer from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tests.help_center.support import editor, write

ARTICLES = {
    "Track your parcel": (
        "You can follow your parcel on the Orders page. Tracking updates every hour once the "
        "parcel leaves our warehouse. Parcels usually arrive within three working days. "
        "The tracking number is in your shipping email."
    ),
    "Return an item": (
        "You can return any item within 30 days. Open the Orders page, choose the order and "
        "press Return. Print the return label and drop the parcel at any post office. "
        "Refunds reach your account five days after we receive the item."
    ),
    "Change your delivery address": (
        "You can change the delivery address until the order ships. Open the order and press "
        "Change address. After shipping, the carrier can redirect the parcel for you. "
        "A new address may change the delivery date."
    ),
}


def faq_articles(db: Session, now: datetime) -> None:
    author = editor(db)
    for title, body in ARTICLES.items():
        write(db, author, now, title, body)
    db.commit()
