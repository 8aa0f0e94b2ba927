"""Registries: plain-text indexes of templates kept wherever they live, so teams can find,
add and follow templates by a short name (docs/registries.md).

- ``index``: the index format (``index.toml``): read strictly, written deterministically.
- ``build``: ``steps registry build``, an index from the collections ``registry.toml`` lists.
- ``config``: the registries a user or project has configured.
- ``fetch``: getting an index from a git repository, a web host or a directory; offline
  from the cache.
- ``search``: ranked search and short-name lookup across registries.
- ``site``: the static HTML catalogue.
"""
