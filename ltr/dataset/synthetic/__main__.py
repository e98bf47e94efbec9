"""``python -m ltr.dataset.synthetic OUT_DIR ...`` (see ``ltr.dataset.synthetic.cli``)."""
from ltr.dataset.synthetic.cli import main

raise SystemExit(main())
