"""bench/run_bench.py replays the app's reads under the settings they ran
with: a statement of its own sets them until its transaction ends; settings
sent in front of a read in one message apply to that read only."""

from bench.run_bench import _replayed


def q(sql):
    return {"sql": sql, "time": "0.001"}


def test_settings_of_their_own_last_until_the_transaction_ends():
    reads = _replayed(
        [
            q("SET LOCAL statement_timeout = 250; SET LOCAL enable_bitmapscan = off"),
            q("SELECT 1"),
            q("SET LOCAL statement_timeout = DEFAULT"),
            q("SELECT 2"),
            q("COMMIT"),
            q("SELECT 3"),
        ]
    )
    assert reads == [
        ("SELECT 1", {"statement_timeout": "250", "enable_bitmapscan": "off"}),
        ("SELECT 2", {"enable_bitmapscan": "off"}),
        ("SELECT 3", {}),
    ]


def test_settings_in_front_of_a_read_apply_to_it_alone():
    reads = _replayed(
        [
            q("SET LOCAL statement_timeout = 250; SELECT 'a; b'"),
            q("SELECT 2"),
            q("SET LOCAL enable_indexscan = off; (SELECT 3) UNION ALL (SELECT 4)"),
        ]
    )
    assert reads == [
        ("SELECT 'a; b'", {"statement_timeout": "250"}),
        ("SELECT 2", {}),
        ("(SELECT 3) UNION ALL (SELECT 4)", {"enable_indexscan": "off"}),
    ]
