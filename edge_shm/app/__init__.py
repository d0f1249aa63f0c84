"""The application layer: one function per use case, typed inputs and a typed result.

The CLI parses its options, calls one of these and renders what it returns; the benchmarks and
most tests call them directly. Nothing here prints: long work reports through a ``progress``
callback the caller passes.
"""
