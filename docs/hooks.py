"""MkDocs hook: pages that show data from the package render it at build time.

`{{ recipes_table }}` becomes `keras_wgangp.recipes.markdown_table()`, so the
recipes page shows the same table the command line reads.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def on_page_markdown(markdown, page, config, files):
    if "{{ recipes_table }}" in markdown:
        from keras_wgangp import recipes

        markdown = markdown.replace("{{ recipes_table }}", recipes.markdown_table())
    return markdown
