"""The category tree and a store's products with price and its own stock."""
from app.extensions import db
from app.models import Category, Product, Sku
from tests import factories


def test_products_show_the_stock_of_the_store_asked_about(client, app_ctx):
    a, b = factories.store(), factories.store()
    latte = factories.product("拿铁", specs=(("中杯", 2800), ("大杯", 3200)), stock={a: 7, b: 2})
    only_a = factories.product("可颂", stock={a: 0})  # carried at a, sold out
    factories.product("不卖的")  # carried nowhere
    at_a = client.get(f"/api/v1/stores/{a}/products").get_json()
    assert [p["id"] for p in at_a["items"]] == [latte.product_id, only_a.product_id]
    assert at_a["items"][0]["skus"] == [
        {"id": latte.sku_ids[0], "spec": "中杯", "price_fen": 2800, "stock": 7},
        {"id": latte.sku_ids[1], "spec": "大杯", "price_fen": 3200, "stock": 7},
    ]
    assert at_a["items"][1]["skus"][0]["stock"] == 0
    at_b = client.get(f"/api/v1/stores/{b}/products").get_json()
    assert [p["id"] for p in at_b["items"]] == [latte.product_id]
    assert at_b["items"][0]["skus"][0]["stock"] == 2
    one = client.get(f"/api/v1/products/{latte.product_id}?store_id={b}").get_json()
    assert one["skus"][0]["stock"] == 2 and one["category_id"] == latte.category_id
    assert client.get(f"/api/v1/products/{only_a.product_id}?store_id={b}").status_code == 404
    assert client.get(f"/api/v1/products/{only_a.product_id}").get_json()["skus"][0]["stock"] is None


def test_search_category_subtree_paging_and_inactive(client, app_ctx):
    store_id = factories.store()
    drinks = Category(name="饮品")
    db.session.add(drinks)
    db.session.flush()
    coffee = Category(name="咖啡", parent_id=drinks.id)
    db.session.add(coffee)
    db.session.commit()
    latte = factories.product("拿铁咖啡", category_id=coffee.id, stock={store_id: 5})
    tea = factories.product("绿茶", category_id=drinks.id, stock={store_id: 5})
    bread = factories.product("面包", stock={store_id: 5})
    percent = factories.product("100%果汁", stock={store_id: 5})
    by_parent = client.get(f"/api/v1/stores/{store_id}/products?category_id={drinks.id}").get_json()
    assert {p["id"] for p in by_parent["items"]} == {latte.product_id, tea.product_id}
    by_child = client.get(f"/api/v1/stores/{store_id}/products?category_id={coffee.id}").get_json()
    assert [p["id"] for p in by_child["items"]] == [latte.product_id]
    assert [p["id"] for p in client.get(f"/api/v1/stores/{store_id}/products?q=咖啡").get_json()["items"]] == [
        latte.product_id]
    # LIKE wildcards in q are literal
    assert [p["id"] for p in client.get(f"/api/v1/stores/{store_id}/products?q=%25").get_json()["items"]] == [
        percent.product_id]
    page = client.get(f"/api/v1/stores/{store_id}/products?per_page=2&page=2").get_json()
    assert page["total"] == 4 and len(page["items"]) == 2
    db.session.get(Product, bread.product_id).active = False
    db.session.get(Sku, tea.sku_ids[0]).active = False
    db.session.commit()
    ids = {p["id"] for p in client.get(f"/api/v1/stores/{store_id}/products").get_json()["items"]}
    assert ids == {latte.product_id, percent.product_id}
    assert client.get(f"/api/v1/stores/{store_id}/products?category_id=99999").status_code == 404


def test_category_tree(client, app_ctx):
    root = Category(name="饮品", sort_order=1)
    other = Category(name="烘焙", sort_order=0)
    db.session.add_all([root, other])
    db.session.flush()
    db.session.add(Category(name="咖啡", parent_id=root.id))
    db.session.commit()
    tree = client.get("/api/v1/categories").get_json()["items"]
    assert [c["name"] for c in tree] == ["烘焙", "饮品"]
    assert [c["name"] for c in tree[1]["children"]] == ["咖啡"]


def test_unknown_store_products_is_404(client):
    response = client.get("/api/v1/stores/424242/products")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_warm_product_list_is_one_query_with_live_stock_and_fresh_edits(client, app_ctx, backend):
    from sqlalchemy import event, text

    from app.catalog.stock import set_quantity

    store_id = factories.store()
    made = factories.product("拿铁", specs=(("中杯", 2800),), stock={store_id: 9})
    url = f"/api/v1/stores/{store_id}/products"
    client.get(url)  # builds the cached page
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        body = client.get(url).get_json()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    if backend == "mariadb":  # with Redis the stock comes with the page, tagged with the stock version: no SQL
        assert statements == []
    else:  # without Redis the stock is read for every page, in one query
        assert len(statements) == 1 and "store_stock" in statements[0]
    assert body["items"][0]["skus"][0]["stock"] == 9

    def stock_shown() -> int:
        return client.get(url).get_json()["items"][0]["skus"][0]["stock"]

    # stock moves by conditional UPDATE (an order), not through the ORM: still seen at once
    headers = factories.login(client)
    client.post("/api/v1/orders", headers=headers, json={
        "store_id": store_id, "items": [{"sku_id": made.sku_ids[0], "quantity": 4}]})
    assert stock_shown() == 5
    # the owner's count (an ORM change to the row), and SQL text that writes the table: seen at once too
    set_quantity(store_id, made.sku_ids[0], 7)
    db.session.commit()
    assert stock_shown() == 7
    db.session.execute(text("UPDATE store_stock SET quantity = 3 WHERE sku_id = :sku"), {"sku": made.sku_ids[0]})
    db.session.commit()
    assert stock_shown() == 3
    # a change rolled back is no change (and the cached stock stays right)
    set_quantity(store_id, made.sku_ids[0], 99)
    db.session.rollback()
    assert stock_shown() == 3
    # a price edit shows on the next request
    db.session.get(Sku, made.sku_ids[0]).price_fen = 2500
    db.session.commit()
    assert client.get(url).get_json()["items"][0]["skus"][0]["price_fen"] == 2500
