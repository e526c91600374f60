"""The red (overdue) filter with and without the running-status literal, in process.

    .venv/bin/python bench/colour_filter.py [--data-dir /tmp/hl-bench-web]

Reads an existing bench database (SQLite data folder made by bench/web_pages.py, e.g.
200,000 tickets) and times ``cases.queries.search`` for the dispatcher and a street
handler, alternating the real ``deadlines.running_literal`` with a neutral ``1 = 1``
term, so both are measured in the same window. Read-only; 40 searches per user.
"""
import argparse, os, sys, time, statistics
parser = argparse.ArgumentParser()
parser.add_argument("--data-dir", default="/tmp/hl-bench-web")
args = parser.parse_args()
if not os.path.exists(os.path.join(args.data_dir, "hotline.sqlite3")):
    sys.exit(f"no bench database in {args.data_dir}: run bench/web_pages.py --tickets 200000 --sqlite-path {args.data_dir} first")
os.environ["HOTLINE_DATA_DIR"] = args.data_dir
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
import django; django.setup()
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from hotline.accounts.models import User
from hotline.cases import deadlines, queries
from hotline.lib import clock
real = deadlines.running_literal
def neutral(): return RawSQL("1 = 1", [], output_field=BooleanField())
users = {u: User.objects.get(username=u) for u in ("dispatcher", "street_handler")}
now = clock.now()
print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; database {args.data_dir}")
for sort in ("deadline", "-created_at"):
  for name, u in users.items():
    res = {}
    for label, fn in (("without", neutral), ("with", real), ("without", neutral), ("with", real)):
        deadlines.running_literal = fn
        f = queries.TicketFilter(colour="red", sort=sort)
        ts = []
        for _ in range(5):
            t = time.perf_counter(); _, count, capped, page = queries.search(u, f, now); ts.append((time.perf_counter() - t) * 1000)
        res.setdefault(label, []).extend(ts)
    print(f"red sort={sort} {name}: count={count}{'+' if capped else ''} median without literal {statistics.median(res['without']):.1f} ms, with {statistics.median(res['with']):.1f} ms")
