"""``cnet experiment zhang|arpit|choromanska``: the papers' experiments
(cnet.experiments), their numbers to CSV and their figures to PNG."""
import os

from ._options import CommandError, positive_int

NAMES = ("zhang", "arpit", "choromanska")
DATASETS = ("mnist", "fashion-mnist", "cifar10", "sample")


def add(sub):
    p = sub.add_parser(
        "experiment", help="reproduce a paper: zhang, arpit or choromanska (CSV and PNG)",
        description="Run one of the memorization and loss-surface experiments and write "
                    "its numbers (CSV) and figures (PNG); --quick runs a small version "
                    "that checks the paper's qualitative claims in a minute.")
    p.add_argument("name", choices=NAMES, help="the experiment")
    p.add_argument("--dataset", choices=DATASETS, default="mnist",
                   help="data set (default: %(default)s; read from --data-dir, else "
                        "CNET_DATA_DIR, else cnet's cache; 'sample' is the MNIST sample "
                        "shipped with cnet)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the data set's files")
    p.add_argument("--quick", action="store_true",
                   help="a small version (subsets, fewer runs) for a quick check")
    p.add_argument("--out", metavar="DIR", default=".",
                   help="where the CSV and PNG files go (default: the current folder)")
    p.add_argument("--seed", type=int, default=0, help="seed of every draw (default: 0)")
    p.add_argument("--runs", type=positive_int, metavar="R",
                   help="choromanska: seeded runs per width (default 100; 12 with --quick)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="zhang, choromanska: runs in parallel processes, one thread each "
                        "(joblib; -1: all cores)")
    p.set_defaults(run=run, parser=p)


def run(args):
    from .. import experiments

    if args.seed < 0:
        raise CommandError("--seed must be >= 0", status=2)
    extra = {}
    if args.name in ("zhang", "choromanska"):
        extra["n_jobs"] = args.jobs
    elif args.jobs != 1:
        raise CommandError("--jobs is for the zhang and choromanska experiments", status=2)
    if args.name == "choromanska" and args.runs is not None:
        extra["runs"] = args.runs
    elif args.runs is not None:
        raise CommandError("--runs is the choromanska experiment's", status=2)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CommandError(f"--out {args.out} is a file, not a folder", status=2)
    print(f"cnet experiment {args.name} on {args.dataset}"
          f"{' (quick)' if args.quick else ''}; files into {args.out}", flush=True)
    try:
        result = experiments.run(args.name, args.dataset, quick=args.quick, out=args.out,
                                 data_dir=args.data_dir, seed=args.seed, **extra)
    except experiments.DataMissing as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise CommandError(str(exc), status=2) from None
    claims = result["claims"]
    print(f"done in {result['seconds']:.1f} s; the paper's claims:\n{claims.report()}")
    print("wrote " + ", ".join(result["files"]))
    return 0 if claims.all_hold else 3
