"""Official account page: rules, menu push to the sandbox, followers per store, the stores' QR codes."""
from __future__ import annotations

import json

from tests.console.conftest import post
from tests.pickup.conftest import sandbox_records


def test_rules_add_and_remove(owner, shops):
    assert post(owner, "/console/official-account/rules", {"keyword": "营业时间", "match_type": "exact",
                                                           "priority": "1", "reply_type": "text",
                                                           "content": "<i>9点到21点</i>"}).status_code == 302
    page = owner.get("/console/official-account").get_data(as_text=True)
    assert "营业时间" in page and "&lt;i&gt;9点到21点&lt;/i&gt;" in page
    assert post(owner, "/console/official-account/rules", {"keyword": "", "reply_type": "text"}).status_code == 400


def test_menu_is_checked_then_pushed(owner, shops, sandbox):
    assert post(owner, "/console/official-account/menu", {"menu": "{not json"}).status_code == 400
    four = {"button": [{"type": "click", "name": f"b{n}", "key": f"K{n}"} for n in range(4)]}
    assert post(owner, "/console/official-account/menu", {"menu": json.dumps(four)}).status_code == 400
    menu = {"button": [{"type": "click", "name": "找门店", "key": "STORES"}]}
    assert post(owner, "/console/official-account/menu", {"menu": json.dumps(menu)}).status_code == 302
    [pushed] = sandbox_records(sandbox, "cgi-bin/menu/create")
    assert pushed["payload"] == menu
    assert "STORES" in owner.get("/console/official-account").get_data(as_text=True)


def test_store_qrcodes(owner, shops):
    png = owner.get(f"/console/stores/{shops.store_a}/qrcode")
    assert png.status_code == 200 and png.data.startswith(b"\xff\xd8") and png.mimetype.startswith("image/")
    code = owner.get(f"/console/stores/{shops.store_a}/miniprogram-code")
    assert code.status_code == 200 and code.mimetype in ("image/png", "image/jpeg")


def test_manager_cannot_change_the_chain_wide_account(manager_of_a, shops):
    assert post(manager_of_a, "/console/official-account/rules", {"keyword": "x", "content": "y"}).status_code == 403
    assert manager_of_a.get(f"/console/stores/{shops.store_b}/qrcode").status_code == 403
