"""Benchmark: knowledge search over 100,000 articles (target p95 < 50 ms).

    .venv/bin/python bench/knowledge_search.py --db sqlite   [--articles 100000 --queries 300]
    .venv/bin/python bench/knowledge_search.py --db postgres

Generates the articles once (bulk rows: each article is about one of the demo
city's 36 kinds of appeal — title, 2-5 sentences of that kind, a sentence naming
two policy terms of the city dictionary, a standard answer — already segmented,
the same text ``knowledge.actions`` would index; 85% published and current, 10%
expired, 5% drafts). With only 36 matters in 100,000 articles every topical word
is in thousands of articles: a harder case than a real knowledge base, then times ``knowledge.search.search_articles``
(segmentation, synonym expansion, the engine's ranked full-text query with the
validity filter, loading the rows, highlighting) for realistic call-taker queries.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time

from knowledge_common import arguments, machine, measure, progress, setup, summary

SUFFIXES = ["办事指南", "常见问题解答", "政策解读", "办理流程", "答复口径", "注意事项", "咨询要点", "通知公告"]
QUERIES = [
    "医疗保险怎么报销", "医保异地就医备案", "小区停水怎么办", "停水什么时候恢复", "物业乱收费投诉", "物业费标准",
    "孩子上小学划片", "租房能不能入学", "拖欠工资找谁", "农民工讨薪", "燃气泄漏怎么办", "燃气费太高",
    "路灯不亮报修", "井盖丢失", "占道经营投诉", "违章建筑举报", "噪音扰民晚上施工", "供暖温度不达标",
    "公积金提取条件", "灵活就业养老保险缴费", "电动车充电", "垃圾清运不及时", "电梯故障困人", "公交线路调整建议",
    "阶梯电价怎么算", "餐馆卫生投诉", "红绿灯时间太短", "消防通道被占", "居住证办理材料", "低保申请条件",
]


def build(count: int, seed: int = 5) -> None:
    from django.db import transaction
    from django.utils import timezone

    from hotline.cases.demo_data import ESTATES, TEMPLATES
    from hotline.knowledge.models import Article, ArticleCategory
    from hotline.knowledge.search import USERDICT, segment

    have = Article.objects.count()
    if have >= count:
        print(f"{have:,} articles already present", file=sys.stderr)
        return
    rng = random.Random(seed)
    now = timezone.now()
    cats = list(ArticleCategory.objects.all())
    if not cats:
        for name in ["社会保障", "城市建设", "公用事业", "市场监管", "教育卫生", "交通出行", "生态环境", "政务服务"]:
            parent = ArticleCategory.objects.create(name=name)
            parent.compute_path()
            parent.save(update_fields=["path"])
            cats.append(parent)
            for i in range(3):
                child = ArticleCategory.objects.create(name=f"{name}{i + 1}", parent=parent)
                child.compute_path()
                child.save(update_fields=["path"])
                cats.append(child)
    terms = [line.split()[0] for line in USERDICT.read_text(encoding="utf-8").splitlines() if line.strip()]
    roads = ["东华路", "解放大街", "长安街", "南湖大道", "北山路", "科技大道", "创新路"]
    # Sentences per appeal template, segmented once (segmenting 100,000 bodies would
    # only time jieba). Each article is about one matter: its template's sentences
    # plus a sentence naming two policy terms of the city dictionary.
    per_topic: dict[int, list[tuple[str, str]]] = {}
    for t_index, tpl in enumerate(TEMPLATES):
        for _ in range(60):
            ctx = {"addr": f"东城区{rng.choice(roads)}{rng.randint(1, 300)}号", "road": rng.choice(roads),
                   "estate": rng.choice(ESTATES), "district": "东城区", "days": "昨天", "n": "2"}
            text = rng.choice([tpl.content, tpl.result, tpl.answer or tpl.result]).format(**ctx)
            per_topic.setdefault(t_index, []).append((text, segment(text)))
    term_sentences = []
    for _ in range(3000):
        text = f"本条涉及{rng.choice(terms)}和{rng.choice(terms)}的有关规定。"
        term_sentences.append((text, segment(text)))
    titles = []
    for t_index, tpl in enumerate(TEMPLATES):
        base = tpl.summary.format(addr="", road="", estate="", district="", days="", n="").strip()
        for suffix in SUFFIXES:
            title = f"{base}{suffix}"
            titles.append((title, segment(title), tpl, t_index))
    for term in terms:
        title = f"{term}{rng.choice(SUFFIXES)}"
        titles.append((title, segment(title), None, rng.randrange(len(TEMPLATES))))
    show = progress("articles")
    batch = 5000
    done = have
    while done < count:
        rows = []
        for _ in range(min(batch, count - done)):
            title, seg_title, tpl, t_index = rng.choice(titles)
            sentences = rng.sample(per_topic[t_index], rng.randint(2, 5)) + [rng.choice(term_sentences)]
            roll = rng.random()
            status = "draft" if roll < 0.05 else "published"
            expires = now - dt.timedelta(days=rng.randint(1, 300)) if 0.05 <= roll < 0.15 else (
                now + dt.timedelta(days=rng.randint(30, 700)) if rng.random() < 0.5 else None)
            body = "".join(f"<p>{s}</p>" for s, _ in sentences)
            answer = (tpl.answer or tpl.result).format(addr="", road="", estate="", district="", days="", n="") if tpl else sentences[0][0]
            rows.append(Article(kind=rng.choice(["policy", "guide", "faq", "faq", "news"]), title=title, body=body, answer=answer,
                                category=rng.choice(cats), status=status, visibility="public" if rng.random() < 0.3 else "internal",
                                effective_at=now - dt.timedelta(days=rng.randint(30, 900)), expires_at=expires,
                                created_at=now, updated_at=now, published_at=now if status == "published" else None,
                                search_title=seg_title, search_body=" ".join(seg for _, seg in sentences)))
        with transaction.atomic():
            Article.objects.bulk_create(rows, batch_size=1000)
        done += len(rows)
        show(done, count)


def main() -> None:
    p = arguments(__doc__.splitlines()[0], queries=300)
    p.add_argument("--articles", type=int, default=100_000)
    args = p.parse_args()
    where = setup(args)
    started = time.monotonic()
    build(args.articles)
    load_s = time.monotonic() - started
    from django.db import connection
    from django.utils import timezone

    from hotline.cases.demo_data import TEMPLATES
    from hotline.knowledge.models import Article
    from hotline.knowledge.search import ArticleFilter, search_articles

    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE knowledge_article")  # the steady state autovacuum keeps
    rng = random.Random(11)
    typed = [t.content.format(addr="", road="", estate="幸福小区", district="东城区", days="昨天", n="2")[:40] for t in TEMPLATES]
    queries = [rng.choice(QUERIES if rng.random() < 0.7 else typed) for _ in range(args.queries)]
    now = timezone.now()
    hits: list[int] = []

    def run(q: str) -> None:
        hits.append(len(search_articles(q, ArticleFilter(now=now), limit=10)))

    ms = measure(queries, run, max_seconds=args.max_seconds)
    print(f"# knowledge search — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d} (UTC) — {machine()}")
    print(f"database: {where}; articles: {Article.objects.count():,} (load {load_s:.0f} s this run)")
    print(summary("search_articles top 10 (current published)", ms))
    print(f"results per query: mean {sum(hits) / len(hits):.1f}, zero-hit queries {hits.count(0)}")


if __name__ == "__main__":
    main()
