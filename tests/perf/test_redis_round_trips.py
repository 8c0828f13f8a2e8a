"""Regression guard that times nothing: the Redis round trips of a payment notification's first application
(MariaDB runs with Redis; SQLite without). Before its claim, one script: the id's settled marker and the order's
(a repeat, or another id of a transaction already recorded, is answered from them), else the order's claim taken
(app/fastpath.look: copies arriving meanwhile wait for this one in Redis); after its commit, one pipeline: the
follow-up job handed to RQ (its queue registration and the job), the id's and the order's markers written and the
claim settled (its waiters told the order's marker) (app/jobs.py, app/fastpath.py). They were three round trips
after the commit."""
from __future__ import annotations


from rq.utils import get_version

from app import fastpath
from app.extensions import db, redis_client
from tests.conftest import mariadb_only
from tests.perf.conftest import redis_round_trips


@mariadb_only
def test_a_first_payment_notification_makes_two_redis_round_trips(placed, notifier, app_ctx, backend):
    get_version(redis_client())  # RQ asks the server's version once per connection object: not per request
    redis_client().script_load(fastpath._LOOK)  # a script new to the server costs one more round trip, once
    body = notifier.body(notifier.resource(placed.order_no, placed.total_fen))
    db.session.commit()
    with redis_round_trips() as sent:
        assert notifier.post(body).status_code == 204
    assert len(sent) == 2, sent
    assert b"EVALSHA" in sent[0] and b"micromall:settled:claim:paid:" in sent[0]  # markers and claim: one script
    for part in (b"MULTI", b"SADD", b"rq:job:", b"RPUSH", b"micromall:settled:payment_notifications:",
                 b"micromall:settled:paid:", b"micromall:settled:done:paid:", b"EXEC"):
        assert part in sent[1], part


@mariadb_only
def test_an_official_account_answer_makes_two_redis_round_trips(follower, app_ctx, backend):
    """A safe-mode text answered at once: the (timestamp, nonce) record and the MsgId claim in one script
    (official_account/replay.admit_and_claim), then the reply kept for WeChat's retries. They were three."""
    follower.send_text("o-warm", "门店")  # the first answer of a process loads the script
    with redis_round_trips() as sent:
        assert "门店" in follower.send_text("o-warm", "门店").reply["Content"]
    assert len(sent) == 2, sent
    assert b"EVALSHA" in sent[0] and b"micromall:oa:query:" in sent[0] and b"micromall:oa:seen:msg:" in sent[0]
    assert b"SET" in sent[1] and b"micromall:oa:seen:msg:" in sent[1] and b"XX" in sent[1]
