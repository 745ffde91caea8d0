"""The politics ("Сиёсат") section: the product's named spider."""

from newscrawl.spiders.category import CategorySpider


class SiyosatSpider(CategorySpider):
    name = "siyosat"
    default_category = "siyosat"
