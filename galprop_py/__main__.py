import sys

from . import stop_signal

stop_signal.hold()  # before the slow imports: a SLURM stop signal is not lost

from .cli import main  # noqa: E402

sys.exit(main())
