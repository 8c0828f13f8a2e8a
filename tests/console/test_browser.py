"""The console in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium): sign in,
mark an order ready, refund one, change stock inline, import a CSV with one bad line and see it named, invite a
clerk, and a manager refused another store's page. Screenshots of the main pages go to MICROMALL_SCREENSHOTS_DIR
when it is set (docs/screenshots/ holds those of a run), else to the test's temporary folder."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, Sku, Store, StoreStock
from app.operators.accounts import create_user
from app.seed import seed_demo
from tests.conftest import IN_CI, sqlite_only
from tests.pickup.conftest import Shop
from wechat_sandbox.server import serve_in_thread

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = sqlite_only  # the browser adds nothing per database; tests/console's other files run on both

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    if IN_CI:
        raise RuntimeError("CI needs chromium and chromium-driver (.ci/run installs them)")
    pytest.skip("chromium and chromium-driver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BAD_CSV = "category,title,spec,price_fen,store_id,stock\n零食,薯片,一袋,800,1,10\n零食,虾条,一袋,八百,1,10\n"


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1280,900", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def live(app):
    server = serve_in_thread(app)
    yield server.base_url
    server.stop()


@pytest.fixture
def shots(tmp_path):
    folder = os.environ.get("MICROMALL_SCREENSHOTS_DIR") or str(tmp_path / "shots")
    os.makedirs(folder, exist_ok=True)
    return lambda driver, name: driver.save_screenshot(os.path.join(folder, f"{name}.png"))


def wait(driver, condition, seconds: float = 30):  # generous: CI runs it beside the rest of the suite
    # A page reloading under the condition's feet (after a click that posts a form) leaves stale elements: look again.
    return WebDriverWait(driver, seconds, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def sign_in(driver, base: str, username: str, password: str) -> None:
    driver.get(f"{base}/console/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()


def test_a_day_at_the_console(app, app_ctx, live, browser, shots, paid_order, tmp_path):
    seed_demo()
    create_user("boss", "owner", password="first-password-1", must_change=True)
    db.session.commit()
    stores = list(db.session.scalars(select(Store).order_by(Store.id)))
    first, second = stores[0].id, stores[1].id
    sku_id = db.session.scalar(select(StoreStock.sku_id).where(StoreStock.store_id == first,
                                                               StoreStock.quantity > 5).order_by(StoreStock.sku_id))
    orders = [paid_order(Shop(first, sku_id), openid) for openid in ("alice", "bob", "carol")]
    d = browser

    # Sign in; the one-time password must be changed first.
    sign_in(d, live, "boss", "first-password-1")
    wait(d, EC.url_contains("/console/password"))
    d.find_element(By.NAME, "current").send_keys("first-password-1")
    d.find_element(By.NAME, "new").send_keys("my own long password")
    d.find_element(By.NAME, "confirm").send_keys("my own long password")
    d.find_element(By.ID, "save-password").click()
    wait(d, EC.presence_of_element_located((By.ID, "lane-waiting")))

    # Today: three orders waiting; mark the first one ready.
    waiting = d.find_element(By.ID, "lane-waiting").text
    assert all(o.order_no in waiting for o in orders)
    shots(d, "today")
    d.find_element(By.CSS_SELECTOR, f'tr[data-order="{orders[0].order_no}"] button.mark-ready').click()
    wait(d, lambda drv: orders[0].order_no in drv.find_element(By.ID, "lane-ready").text)

    # Refund the second from its order page: the reason is required (the browser checks, then the server).
    d.find_element(By.LINK_TEXT, orders[1].order_no).click()
    d.find_element(By.NAME, "reason").send_keys("顾客临时有事")
    d.find_element(By.ID, "refund").click()
    wait(d, lambda drv: drv.find_element(By.ID, "order-status").text in ("退款中", "已退款", "退款失败"))
    shots(d, "order")

    # Orders: search by status.
    d.find_element(By.ID, "nav-orders").click()
    shots(d, "orders")

    # Catalog: change stock inline (type, Enter; saved without a reload).
    d.find_element(By.ID, "nav-catalog").click()
    cell = d.find_element(By.ID, f"stock-{first}-{sku_id}")
    cell.clear()
    cell.send_keys("77", Keys.ENTER)
    wait(d, lambda drv: "saved" in drv.find_element(By.ID, f"stock-{first}-{sku_id}").get_attribute("class"))
    db.session.commit()  # a fresh read
    assert db.session.get(StoreStock, (first, sku_id)).quantity == 77
    shots(d, "catalog")

    # Import a CSV with one bad line: the line is named and nothing is imported.
    d.find_element(By.ID, "import").click()
    path = tmp_path / "catalog.csv"
    path.write_bytes(BAD_CSV.encode("gbk"))
    d.find_element(By.ID, "csv-file").send_keys(str(path))
    d.find_element(By.ID, "preview").click()
    problems = wait(d, EC.presence_of_element_located((By.ID, "problems"))).text
    assert "line 3" in problems and "price_fen" in problems
    assert db.session.scalar(select(Sku).where(Sku.spec == "一袋")) is None
    shots(d, "import")

    # Staff: invite a clerk; the code and its QR code are shown once.
    d.find_element(By.ID, "nav-staff").click()
    d.find_element(By.NAME, "name").send_keys("小王")
    d.find_element(By.ID, "invite-staff").click()
    code = wait(d, EC.presence_of_element_located((By.ID, "invite-code"))).text
    assert len(code.replace("-", "")) == 16 and d.find_elements(By.CSS_SELECTOR, "#invite svg")
    shots(d, "staff")

    # Money, the dashboard's charts, the official account: pages that only read.
    for page, name in (("nav-money", "money"), ("nav-dashboard", "dashboard"),
                       ("nav-official_account", "official-account")):
        d.find_element(By.ID, page).click()
        wait(d, EC.presence_of_element_located((By.TAG_NAME, "h1")))
        shots(d, name)
        if name == "dashboard":
            assert d.find_elements(By.CSS_SELECTOR, "#chart-orders svg rect")

    # A manager of the second store is refused the first store's page.
    create_user("mgr", "manager", [second], password="manager-password-1", must_change=False)
    db.session.commit()
    d.find_element(By.CSS_SELECTOR, "header .me button").click()
    wait(d, EC.url_contains("/console/login"))
    sign_in(d, live, "mgr", "manager-password-1")
    wait(d, EC.presence_of_element_located((By.ID, "lane-waiting")))
    d.get(f"{live}/console/today?store={first}")
    assert "你无权访问这个门店" in d.find_element(By.ID, "error-message").text
    db.session.commit()
    assert db.session.scalar(select(Order.status).where(Order.order_no == orders[2].order_no)) == "paid"
