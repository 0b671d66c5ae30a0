"""A Scrapy item pipeline that drops near-duplicate pages.

Enable it in ``settings.py``::

    ITEM_PIPELINES = {"neardup_pipeline.DropNearDuplicates": 300}
    NEARDUP_THRESHOLD = 0.8            # Jaccard of word 5-gram shingles
    NEARDUP_TEXT_FIELD = "text"        # the item field holding the page text
    NEARDUP_ID_FIELD = "url"           # the item field naming the page
    NEARDUP_INDEX_PATH = "seen.ndx"    # optional: loaded at start, saved at close

Every item whose text near-duplicates a page kept earlier (in this crawl or,
with NEARDUP_INDEX_PATH, in any earlier one) is dropped with DropItem, and
the ``neardup/dropped`` stat counts them. Items without text pass through.
"""

from __future__ import annotations

import os
from typing import Optional

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

import neardup


class DropNearDuplicates:
    def __init__(
        self,
        threshold: float = 0.8,
        text_field: str = "text",
        id_field: str = "url",
        index_path: Optional[str] = None,
        stats=None,
    ) -> None:
        self.threshold = threshold
        self.text_field = text_field
        self.id_field = id_field
        self.index_path = index_path
        self.stats = stats
        self.index: Optional[neardup.Index] = None
        self.anonymous = 0

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(
            threshold=s.getfloat("NEARDUP_THRESHOLD", 0.8),
            text_field=s.get("NEARDUP_TEXT_FIELD", "text"),
            id_field=s.get("NEARDUP_ID_FIELD", "url"),
            index_path=s.get("NEARDUP_INDEX_PATH"),
            stats=crawler.stats,
        )

    def open_spider(self, spider=None) -> None:
        if self.index_path and os.path.exists(self.index_path):
            self.index = neardup.Index.load(self.index_path)
            if self.index.threshold != self.threshold:
                raise ValueError(
                    f"{self.index_path} was built with threshold {self.index.threshold}, "
                    f"not NEARDUP_THRESHOLD={self.threshold}"
                )
        else:
            self.index = neardup.Index(threshold=self.threshold)

    def close_spider(self, spider=None) -> None:
        if self.index_path and self.index is not None:
            self.index.save(self.index_path)

    def _drop(self, reason: str):
        if self.stats is not None:
            self.stats.inc_value("neardup/dropped")
        raise DropItem(reason)

    def process_item(self, item, spider=None):
        if self.index is None:
            self.open_spider(spider)
        adapter = ItemAdapter(item)
        text = adapter.get(self.text_field)
        if not isinstance(text, str) or not text.strip():
            return item
        page_id = adapter.get(self.id_field)
        if page_id is None:
            self.anonymous += 1
            page_id = f"item-{self.anonymous}"
        page_id = str(page_id)
        if page_id in self.index:
            self._drop(f"{page_id} was already seen")
        verdict = self.index.insert(page_id, text)
        if verdict is not None:
            of, similarity = verdict
            self._drop(f"{page_id} is a near-duplicate of {of} (Jaccard {similarity:.3f})")
        return item
