"""The consumer mini-program reports the scene it was opened with (a staff seat's or a store's code)."""
from __future__ import annotations

from flask import jsonify

from app.attribution.service import record_arrival
from miniprogram_api import consumer
from miniprogram_api.api_spec import operation
from miniprogram_api.auth import current_customer, customer_required
from miniprogram_api.render import iso
from miniprogram_api.schemas.attribution import ArrivalOut, AttributionBody


@consumer.post("/me/attribution")
@customer_required
@operation(tags=("customer", "attribution"), json=AttributionBody, ok=ArrivalOut, authenticated=True,
           errors=(404, 410, 429))
def report_attribution(json: AttributionBody):
    """The scene the mini-program was opened with (staff or store code): the first staff code owns the customer at
    its store for ATTRIBUTION_WINDOW_D days; 404 scene_not_found, 410 scene_expired, 429 rate_limited"""
    arrival = record_arrival(current_customer(), json.scene)
    staff = ({"seat_id": arrival.seat.id, "name": arrival.seat.name} if arrival.seat is not None else None)
    return jsonify(outcome=arrival.outcome, store={"id": arrival.store.id, "name": arrival.store.name},
                   staff=staff, attributed_until=iso(arrival.until))
