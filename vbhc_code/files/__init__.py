"""Everything that touches files: guarded atomic writes, CSV and Excel tables, and the one reader of
untrusted archives, XML and workbooks."""
