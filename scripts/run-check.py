#!/usr/bin/env python3
"""Checks a fault or cluster run: the load generator's record (published and received), the processing log and
the table counts. Usage: run-check.py RECORD LOG COUNTS KILLED RMQ_RESTARTS PG_RESTARTS RESULT WORKER_EXIT [WORKER_LOG]

A parked message claims no message_id (docs/contract.md), so one the broker delivers again before its acknowledgement
(a kill, a lost connection, a quorum-queue leader moving) is parked again: each parked command has at most one
parked row that was not a redelivery, any others were redeliveries (the log's `redelivered` column), and at
most that many copies plus one per relay reconnect or kill; every other command exactly one final row."""
import sys, json, collections
record, logf, counts, killed, rmq, pg, out, worker_exit = sys.argv[1:9]
worker_log = sys.argv[9] if len(sys.argv) > 9 else None
reconnects = sum(l.count("relay lost the broker") for l in open(worker_log)) if worker_log else 0
regs_db, pays_db, unsent = map(int, counts.split("\t"))
pub, outs = {}, collections.defaultdict(list)
for line in open(record):
    f = line.rstrip("\n").split("\t")
    if f[0] == "P": pub[int(f[1])] = (f[2], f[3], f[4])
    elif f[0] == "O": outs[int(f[1])].append((f[2], f[3], f[4]))
final = collections.Counter(); parks = collections.Counter(); reparks = collections.Counter()
retries = collections.Counter(); nulls = 0
for line in open(logf):
    mid, attempt, outcome, redelivered = (line.rstrip("\n").split("\t") + ["f"])[:4]
    if mid == "-": nulls += 1; continue
    if outcome == "retry_scheduled": retries[mid] += 1
    elif outcome == "parked" and redelivered == "t": reparks[mid] += 1
    elif outcome == "parked": parks[mid] += 1
    else: final[mid] += 1
v = collections.Counter(); examples = collections.defaultdict(list)
def bad(kind, seq): v[kind] += 1; len(examples[kind]) < 5 and examples[kind].append(seq)
accepted_regs, confirmed_pays, dup_events = set(), set(), 0
for seq, (mid, exp, kind) in pub.items():
    got = outs.get(seq, [])
    if not got: bad("lost (no event or dead letter received)", seq); continue
    types = {t for t, _, _ in got}
    ids = {i for _, i, _ in got}
    dup_events += len(got) - len(ids)
    if len(types) > 1: bad("more than one kind of outcome", seq)
    if len(ids) > 1 and "parked" not in types: bad("several distinct events for one command", seq)
    # A kill or a relay reconnect between the broker's confirm and the outbox row's deletion republishes it.
    if "parked" in types and len(got) > 1 + reparks.get(mid, 0) + reconnects + int(killed):
        bad("more parked copies than redeliveries explain", seq)
    if "registration.accepted" in types: accepted_regs.add(seq)
    if "payment.confirmed" in types: confirmed_pays.add(seq)
    valid_id = kind not in ("missing_message_id", "invalid_message_id")
    if valid_id and mid != "-":
        n, p = final.get(mid, 0), parks.get(mid, 0)
        r = reparks.get(mid, 0)
        # One parked row, plus any number that were redeliveries (the first delivery seen may itself be one).
        if "parked" in types and not (n == 0 and p <= 1 and p + r >= 1) and not (n == 1 and p == 0):
            bad("parked command: wrong processing_log rows", seq)
        if "parked" not in types and n != 1: bad(f"processing_log final rows != 1", seq)
for mid, n in final.items():
    if n > 1: bad("duplicate processing_log outcome", mid)
if regs_db != len(accepted_regs): bad(f"registrations in db {regs_db} != accepted events {len(accepted_regs)}", -1)
if pays_db != len(confirmed_pays): bad(f"payments in db {pays_db} != confirmed events {len(confirmed_pays)}", -1)
if unsent: bad(f"outbox still has {unsent} unsent events", -1)
if worker_exit != "0": bad(f"worker exit code after SIGTERM {worker_exit}", -1)
res = dict(commands=len(pub), sigkills=int(killed), rabbitmq_restarts=int(rmq), postgres_restarts=int(pg),
           outcomes_received=sum(1 for s in pub if outs.get(s)), registrations_db=regs_db, payments_db=pays_db,
           accepted_events=len(accepted_regs), confirmed_events=len(confirmed_pays),
           redelivered_duplicate_events=dup_events, retry_rows=sum(retries.values()),
           null_message_id_rows=nulls, reconnects=reconnects,
           parked_again_after_redelivery=sum(reparks.values()), violations=dict(v), examples={k: x for k, x in examples.items()})
json.dump(res, open(out, "w"), indent=2)
print("\n== fault run ==")
for k in ["commands", "sigkills", "rabbitmq_restarts", "postgres_restarts", "outcomes_received", "registrations_db",
          "accepted_events", "payments_db", "confirmed_events", "redelivered_duplicate_events", "retry_rows", "null_message_id_rows", "reconnects",
          "parked_again_after_redelivery"]:
    print(f"{k:32} {res[k]}")
lost = v.get("lost (no event or dead letter received)", 0)
dup = sum(n for k, n in v.items() if "duplicate" in k or "more than one" in k or "several" in k)
print(f"{'lost':32} {lost}\n{'duplicated':32} {dup}")
print("violations: " + (json.dumps(dict(v)) + " examples " + json.dumps(examples) if v else "none"))
print(f"result: {out}")
sys.exit(1 if v else 0)
