#!/usr/bin/env python3
"""Seeds a workspace of a local D1 file (a `wrangler dev --persist-to` state) with N contacts,
N conversations of 4 lines each and N tickets with 2 thread messages each, straight into the
SQLite file, for the inbox benchmark. The server must be idle while it runs (local D1 refuses
writes while another process holds the file). Inserts go through the schema's own triggers,
so the search index fills as it would.

Usage: seed-inbox.py <d1 sqlite file> <org id> <agent id> <n>
"""
import random
import sqlite3
import sys
import time
import uuid

WORDS = ("order invoice refund parcel export login password plan seat billing card "
         "delivery customs coupon account team invite report sync integration error").split()


def sentence(rng, n=12):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def main():
    path, org, agent, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng = random.Random(7)
    now = int(time.time() * 1000)
    db = sqlite3.connect(path, timeout=30)
    users, convs, msgs, tickets, tmsgs = [], [], [], [], []
    for i in range(n):
        at = now - (n - i) * 60_000
        uid = str(uuid.uuid4())
        users.append((uid, org, f"load-{i}", f"Customer {i}", f"c{i}@example.com", at, at))
        cid = str(uuid.uuid4())
        convs.append((cid, org, f"load-session-{i:06d}", uid, agent, "chat", at, at))
        for j, role in enumerate(("user", "ai", "user", "ai")):
            msgs.append((str(uuid.uuid4()), org, cid, role, sentence(rng), at + j))
        tid = str(uuid.uuid4())
        status = rng.choice(("open", "open", "priority", "in_progress", "resolved", "snoozed", "spam"))
        tickets.append((tid, org, f"Question {i}: {sentence(rng, 4)}", status,
                        at + 86_400_000 if status == "snoozed" else None, uid, at, at))
        tmsgs.append((str(uuid.uuid4()), org, tid, "chat", "customer", sentence(rng), at))
        tmsgs.append((str(uuid.uuid4()), org, tid, "note", "teammate", sentence(rng), at + 1))
    db.executemany("INSERT INTO end_users (id, org_id, external_id, name, email, created_at, last_seen_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", users)
    db.executemany("INSERT INTO conversations (id, org_id, session_id, end_user_id, agent_id, channel,"
                   " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", convs)
    db.executemany("INSERT INTO messages (id, org_id, conversation_id, role, body, created_at)"
                   " VALUES (?, ?, ?, ?, ?, ?)", msgs)
    db.executemany("INSERT INTO tickets (id, org_id, subject, status, snoozed_until, end_user_id, channel,"
                   " source, custom_fields, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, 'chat', 'api', '{}', ?, ?)",
                   [(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]) for t in tickets])
    db.executemany("INSERT INTO ticket_messages (id, org_id, ticket_id, kind, author, body, created_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", tmsgs)
    db.commit()
    db.execute("ANALYZE")
    db.commit()
    print(f"seeded {n} contacts, {n} conversations ({len(msgs)} lines), {n} tickets ({len(tmsgs)} messages)")


if __name__ == "__main__":
    main()
