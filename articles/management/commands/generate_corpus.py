"""
Fill the database with a realistic news corpus for benchmarks and load tests:
`generate_corpus 100000 --seed 1`. Same seed, same corpus; bulk inserts of
already-clean HTML keep 100,000 articles to about 90 s. See docs/performance.md.
"""

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.caching.keys import invalidate_everything
from articles.models import Article, Author, Authorship, Related, Section, Tag, TaggedArticle
from articles.models.taxonomy import tag_key

TAG_POOL = 300
# Weight of the k-th tag is 1 / k**TAG_SKEW; with 3-5 tags an article this puts
# the busiest tag on ~30% of articles and the median tag on ~0.7%.
TAG_SKEW = 0.78
YEARS = 5
END = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)


def words(text):
    return text.split()


def invented_names(count=3000):
    """Proper names made of syllables, the same for every seed: each is in about 0.1% of articles,
    so searching for one is selective, as real searches for a person or place are."""
    rng = random.Random(0)
    syllables = words("ka lo mi sa ren to bu dai ve ni ko ra ze lu pa mo ti ga fe ho an el or us")
    names = set()
    while len(names) < count:
        names.add("".join(rng.choices(syllables, k=rng.randint(2, 4))).capitalize())
    return sorted(names)


RARE_WORDS = invented_names()


SECTIONS = [
    "Africa", "Middle East", "Europe", "Asia", "Americas", "Economy",
    "Science", "Climate", "Sport", "Culture", "Technology", "Opinion",
]  # fmt: skip
PLACES = words(
    "Mali Niger Sudan Kenya Nigeria Ghana Senegal Ethiopia Somalia Egypt Libya Tunisia Morocco Algeria "
    "Syria Iraq Iran Yemen Lebanon Jordan Israel Gaza Turkey Qatar Oman Ukraine Russia Poland France "
    "Germany Spain Italy Greece Britain Ireland Norway India Pakistan China Japan Korea Vietnam Indonesia "
    "Brazil Mexico Chile Peru Colombia Canada Haiti Cuba Argentina Venezuela Bolivia Kazakhstan Georgia"
)
TOPICS = words(
    "Elections Protests Drought Floods Migration Refugees Oil Gas Gold Mining Wheat Inflation Debt "
    "Trade Tariffs Football Athletics Cinema Music Literature Health Vaccines Malaria Education Courts "
    "Corruption Energy Solar Water Farming Fisheries Railways Ports Aviation Tourism Banking Currency "
    "Diplomacy Sanctions Ceasefire Security Cybersecurity Space Archaeology Wildlife Forests Cities"
)
FIRST_NAMES = words(
    "Amara Omar Leila Yusuf Fatima Daniel Sofia Hassan Nadia Samuel Aisha Jonas Mariam Karim Elena "
    "Tariq Zainab Lucas Ines Kwame Noor Ibrahim Clara Mustafa Hana Adam Salma Victor Rania Felix"
)
LAST_NAMES = words(
    "Diallo Haddad Mensah Okafor Rahman Silva Novak Karimi Nasser Traore Osei Petrov Haidari Moreau "
    "Castillo Bakr Sato Wanjiru Farouk Lindqvist Aziz Mbeki Costa Yilmaz Abbas Dubois Keita Ortega"
)
WORDS = words(
    "the government said on minister officials report week capital people city region president army "
    "talks agreement water price market workers families children schools hospital border village "
    "election vote party leader opposition court judge law police security forces attack ceasefire aid "
    "food fuel power grid rain season harvest crops farmers prices rose fell percent million billion "
    "economy growth bank loan debt trade export import deal company investors shares oil gas mine gold "
    "road port railway bridge project build plan year month day morning night after before while during "
    "with without from into across over under between against about around new old first last next "
    "local national international regional united council committee group members residents witnesses "
    "spokesperson statement told reporters interview according data figures survey study scientists "
    "researchers climate heat storm flood drought coast river lake mountain desert forest island north "
    "south east west central its their his her this that these those more less most many several few "
    "was were is are has have had will would could should may might also still already again only "
    "and or but because since although however meanwhile later earlier today yesterday recently"
)


class Command(BaseCommand):
    help = "Fill the database with N published news articles (plus some drafts and scheduled ones) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="How many published articles.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same corpus.")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--replace", action="store_true", help="Delete every article, tag, section and author first."
        )

    def handle(self, *args, count, seed, batch_size, replace, **options):
        if count < 1 or batch_size < 1:
            raise CommandError("count and --batch-size must be positive.")
        if replace:
            with transaction.atomic():
                for model in (Article, Tag, Section, Author):
                    model.objects.all().delete()
        elif Article.objects.exists() or Tag.objects.exists() or Section.objects.exists():
            raise CommandError("The database already has articles; pass --replace to delete them first.")

        started = time.monotonic()
        self.rng = random.Random(seed)
        self.sentences = [self.sentence() for _ in range(5000)]
        sections, authors, tags = self.make_taxonomy()
        tag_weights = list(accumulate(1 / (k + 1) ** TAG_SKEW for k in range(len(tags))))

        plan = self.plan(count)
        progress = Progress(len(plan), sys.stderr if options["verbosity"] else None)
        recent = []  # ids of the last articles inserted, for curated related links
        for start in range(0, len(plan), batch_size):
            with transaction.atomic():
                articles = Article.objects.bulk_create(
                    [
                        self.article(i, status, at, sections)
                        for i, (status, at) in enumerate(plan[start:][:batch_size], start)
                    ]
                )
                authorships, taggings, related = [], [], []
                for article in articles:
                    for position, author in enumerate(self.rng.sample(authors, self.rng.choice((1, 1, 2)))):
                        authorships.append(Authorship(article=article, author=author, position=position))
                    for tag in self.pick_tags(tags, tag_weights, self.rng.randint(3, 5)):
                        taggings.append(TaggedArticle(content_object=article, tag=tag))
                    nearby = recent[-12:]
                    for position, other in enumerate(self.rng.sample(nearby, min(3, len(nearby)))):
                        related.append(Related(article=article, related_article_id=other, position=position))
                    recent.append(article.pk)
                    recent = recent[-12:]
                Authorship.objects.bulk_create(authorships)
                TaggedArticle.objects.bulk_create(taggings)
                Related.objects.bulk_create(related)
            progress.update(len(articles))
        progress.done()
        invalidate_everything()  # bulk_create sends no signals: drop the cached pages

        elapsed = time.monotonic() - started
        top = max(tags, key=lambda tag: tag.taggedarticle_items.count())
        self.stdout.write(
            f"Generated {count:,} published articles (+{len(plan) - count:,} drafts and scheduled), "
            f"{len(tags)} tags (busiest: {top.name!r} on {top.taggedarticle_items.count():,}), "
            f"{len(sections)} sections, {len(authors)} authors in {elapsed:.1f} s."
        )

    def plan(self, count):
        """(status, published_at) for every article, oldest first: N published, ~2% drafts, ~1% scheduled."""
        rng = self.rng
        step = YEARS * 365 * 86400 / count
        end = min(END, timezone.now())
        at = end - timedelta(seconds=YEARS * 365 * 86400)
        plan = []
        for _ in range(count):
            if plan and rng.random() < 0.03:
                pass  # an exact tie with the previous article
            else:
                at += timedelta(seconds=int(rng.uniform(0.2, 1.8) * step) or 1)
            plan.append((Article.Status.PUBLISHED, min(at, end)))
            if rng.random() < 0.02:
                plan.append((Article.Status.DRAFT, at))
            if rng.random() < 0.01:
                plan.append((Article.Status.PUBLISHED, timezone.now() + timedelta(days=rng.uniform(1, 60))))
        return plan

    def make_taxonomy(self):
        rng = self.rng
        sections = Section.objects.bulk_create(
            Section(name=name, slug=slugify(name), description=f"News and analysis: {name}.") for name in SECTIONS
        )
        names = sorted({f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(400)})[:150]
        authors = Author.objects.bulk_create(
            Author(name=name, slug=slugify(name), bio=f"{name} reports for the newsroom.") for name in names
        )
        tag_names = PLACES + TOPICS
        while len(tag_names) < TAG_POOL:
            name = f"{rng.choice(TOPICS)} in {rng.choice(PLACES)}"
            if name not in tag_names:
                tag_names.append(name)
        rng.shuffle(tag_names)  # popularity rank is random, not alphabetical
        tags = Tag.objects.bulk_create(Tag(name=name, slug=slugify(name), key=tag_key(name)) for name in tag_names)
        return sections, authors, tags

    def pick_tags(self, tags, cum_weights, k):
        picked = set()
        while len(picked) < k:
            picked.update(self.rng.choices(range(len(tags)), cum_weights=cum_weights, k=k - len(picked)))
        return [tags[i] for i in sorted(picked)]

    def sentence(self, low=8, high=24):
        words = self.rng.choices(WORDS, k=self.rng.randint(low, high))
        return " ".join(words).capitalize() + "."

    def article(self, i, status, published_at, sections):
        rng = self.rng
        headline = " ".join(rng.choices(WORDS, k=rng.randint(6, 11))).capitalize()
        paragraphs = []
        for n in range(rng.randint(6, 8)):
            text = " ".join(rng.choices(self.sentences, k=rng.randint(6, 8)))
            if n == 0:
                lead, _, rest = text.partition(". ")
                text = f"<strong>{lead}.</strong> {rest}"
            elif n == 1:
                first, second, third = rng.sample(RARE_WORDS, 3)
                text += f" {first} of {second} met {third}."
            elif n == 2:
                text += f' <a href="https://example.org/report/{i}" rel="noopener noreferrer">Read the report</a>.'
            paragraphs.append(f"<p>{text}</p>")
        return Article(
            headline=headline,
            slug=f"{slugify(headline)[:180]}-{i}",
            standfirst=" ".join(rng.choices(self.sentences, k=2)),
            body="\n".join(paragraphs),
            section=rng.choice(sections),
            status=status,
            published_at=published_at,
            created_at=min(published_at, timezone.now()),
            updated_at=min(published_at, timezone.now()),
        )


class Progress:
    """A plain progress line on stderr: done/total, rate and time left."""

    def __init__(self, total, stream):
        self.total, self.stream, self.count, self.started = total, stream, 0, time.monotonic()

    def update(self, n):
        self.count += n
        if self.stream:
            elapsed = time.monotonic() - self.started
            rate = self.count / elapsed if elapsed else 0
            left = (self.total - self.count) / rate if rate else 0
            self.stream.write(
                f"\r  {self.count:>9,}/{self.total:,} articles ({100 * self.count // self.total:3d}%)"
                f"  {rate:,.0f}/s  {left:4.0f} s left "
            )
            self.stream.flush()

    def done(self):
        if self.stream:
            self.stream.write("\n")
