"""The server-side cart: per customer and store, quantities 1..99, only SKUs sold there, prices from the server."""
from app.extensions import db
from app.models import Sku, StoreStock
from tests import factories


def test_cart_lines_prices_and_availability(client, app_ctx):
    a, b = factories.store(), factories.store()
    latte = factories.product("拿铁", specs=(("中杯", 2800), ("大杯", 3200)), stock={a: 5})
    headers = factories.login(client)
    put = lambda sku, qty, store=a: client.put("/api/v1/cart/items", headers=headers,  # noqa: E731
                                                json={"store_id": store, "sku_id": sku, "quantity": qty})
    assert put(latte.sku_ids[0], 2).status_code == 200
    cart = put(latte.sku_ids[1], 1).get_json()
    assert [(i["sku_id"], i["quantity"], i["price_fen"]) for i in cart["items"]] == [
        (latte.sku_ids[0], 2, 2800), (latte.sku_ids[1], 1, 3200)]
    assert cart["total_fen"] == 2 * 2800 + 3200
    assert put(latte.sku_ids[0], 7).get_json()["items"][0]["quantity"] == 7  # a PUT sets, it does not add
    # more than the store has: kept, shown unavailable, not counted
    cart = client.get(f"/api/v1/cart?store_id={a}", headers=headers).get_json()
    assert cart["items"][0]["available"] is False and cart["total_fen"] == 3200
    # a price change shows at once: the cart stores no price
    db.session.get(Sku, latte.sku_ids[1]).price_fen = 3000
    db.session.commit()
    assert client.get(f"/api/v1/cart?store_id={a}", headers=headers).get_json()["items"][1]["price_fen"] == 3000
    # not sold at store b
    refused = put(latte.sku_ids[0], 1, store=b)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "sku_unavailable"
    deleted = client.delete(f"/api/v1/cart/items/{latte.sku_ids[0]}?store_id={a}", headers=headers).get_json()
    assert [i["sku_id"] for i in deleted["items"]] == [latte.sku_ids[1]]


def test_carts_are_per_customer_and_per_store(client, app_ctx):
    a, b = factories.store(), factories.store()
    made = factories.product(stock={a: 5, b: 5})
    alice, bob = factories.login(client, "alice"), factories.login(client, "bob")
    client.put("/api/v1/cart/items", headers=alice, json={"store_id": a, "sku_id": made.sku_ids[0], "quantity": 2})
    assert client.get(f"/api/v1/cart?store_id={a}", headers=bob).get_json()["items"] == []
    assert client.get(f"/api/v1/cart?store_id={b}", headers=alice).get_json()["items"] == []
    assert len(client.get(f"/api/v1/cart?store_id={a}", headers=alice).get_json()["items"]) == 1
    assert db.session.get(StoreStock, (a, made.sku_ids[0])).quantity == 5  # a cart reserves nothing
