"""The ``.spk`` language front end: text -> syntax tree -> elaborated Network."""
