"""The consumer mini-program reports the scene it was opened with (a staff seat's or a store's code)."""
from __future__ import annotations

from flask import jsonify

from app.attribution.service import record_arrival
from app.extensions import db
from miniprogram_api import consumer
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.params import body_str, json_body
from miniprogram_api.render import iso


@consumer.post("/me/attribution")
@customer_required
def report_attribution():
    # 64, not 32: a longer string is still answered as a malformed scene (400 naming the field), not cut short.
    scene = body_str(json_body(), "scene", max_length=64)
    arrival = record_arrival(current_customer(), scene)
    db.session.commit()
    staff = ({"seat_id": arrival.seat.id, "name": arrival.seat.name} if arrival.seat is not None else None)
    return jsonify(outcome=arrival.outcome, store={"id": arrival.store.id, "name": arrival.store.name},
                   staff=staff, attributed_until=iso(arrival.until))
