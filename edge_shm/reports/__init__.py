"""Reports people read: Markdown + JSON + PNG for evaluations, comparisons, profiles, the demo."""
