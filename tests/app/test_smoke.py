from tests import factories


def test_login_and_browse(client, app_ctx):
    store_id = factories.store()
    made = factories.product(stock={store_id: 5})
    headers = factories.login(client)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    body = client.get(f"/api/v1/stores/{store_id}/products").get_json()
    assert body["items"][0]["skus"][0]["stock"] == 5
    assert made.sku_ids[0] == body["items"][0]["skus"][0]["id"]
