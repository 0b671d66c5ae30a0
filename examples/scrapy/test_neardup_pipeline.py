"""The pipeline fed items directly: no spider, no network."""

import pytest
from scrapy.exceptions import DropItem

from neardup_pipeline import DropNearDuplicates

ARTICLE = (
    "The city council voted on Tuesday to expand the bike lane network along the river, "
    "adding twelve kilometres of protected lanes over the next two years, after a long "
    "public consultation in which most residents supported the plan"
)


class Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


def test_drops_near_duplicates_and_repeats_and_keeps_the_rest(tmp_path):
    stats = Stats()
    pipe = DropNearDuplicates(stats=stats)
    pipe.open_spider()
    first = {"url": "https://a.example/news/1", "text": ARTICLE}
    assert pipe.process_item(first) is first
    # the same story syndicated with a different footer
    with pytest.raises(DropItem, match="near-duplicate of https://a.example/news/1"):
        pipe.process_item({"url": "https://b.example/story", "text": ARTICLE + ". Read more on our site"})
    with pytest.raises(DropItem, match="already seen"):
        pipe.process_item({"url": "https://a.example/news/1", "text": "anything"})
    other = {"url": "https://c.example/", "text": "A recipe for bread: flour, water, salt and a long slow rise."}
    assert pipe.process_item(other) is other
    no_text = {"url": "https://d.example/image.png"}
    assert pipe.process_item(no_text) is no_text
    assert stats.values["neardup/dropped"] == 2


def test_index_persists_between_crawls(tmp_path):
    path = str(tmp_path / "seen.ndx")
    crawl1 = DropNearDuplicates(index_path=path)
    crawl1.open_spider()
    crawl1.process_item({"url": "u1", "text": ARTICLE})
    crawl1.close_spider()
    crawl2 = DropNearDuplicates(index_path=path)
    crawl2.open_spider()
    with pytest.raises(DropItem, match="near-duplicate of u1"):
        crawl2.process_item({"url": "u2", "text": ARTICLE.upper()})
    mismatched = DropNearDuplicates(index_path=path, threshold=0.5)
    with pytest.raises(ValueError, match="threshold"):
        mismatched.open_spider()
