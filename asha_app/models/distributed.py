"""Data-parallel training under ``torchrun`` (DistributedDataParallel).

Run::

    torchrun --nproc_per_node=2 -m asha_app.models.distributed DATA --model envtcn --out model.pt

Every process loads the same data and builds the same split; the training
loop (:func:`asha_app.models.train.train`) orders batches with a
:class:`~torch.utils.data.DistributedSampler` and gives each of the N
processes ``batch_size / N`` windows of every global batch, so the
effective batches equal those of a single process with the same seed.
Gradients are averaged by DDP (gloo on CPU, NCCL on GPU).  Rank 0 writes
the checkpoint.

Exact agreement with one process needs a model without batch statistics
or random masks in training: BatchNorm normalises each process's half
batch separately and dropout draws different masks, so use e.g.
``--config '{"norm": "layer", "dropout": 0}'`` for EnvelopeTCN when comparing.
Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) the module trains
in one process, which is the reference for that comparison.
"""

from __future__ import annotations

import argparse
import json
import logging
import os

import torch
import torch.distributed as dist

from asha_app.core.jsonout import print_line
from asha_app.data.windows import WindowSpec
from asha_app.models import checkpoint as C
from asha_app.models import train as T
from asha_app.models.commands import _filter_spec, _load

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m asha_app.models.distributed")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--model", default="envtcn")
    p.add_argument("--config", default="{}")
    p.add_argument("--out", required=True)
    p.add_argument("--window-ms", type=float, default=0.0)
    p.add_argument("--stride-ms", type=float, default=20.0)
    p.add_argument("--blocks", type=int, default=10)
    p.add_argument("--filter", default="auto", choices=["auto", "default", "none"])
    p.add_argument("--band", type=float, nargs=2)
    p.add_argument("--notch", type=float, default=None)  # as `asha train`: None = 50 Hz when below Nyquist
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--patience", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)

    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    device = "cpu"
    if distributed:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        if backend == "nccl":
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
            torch.cuda.set_device(device)
    rank = dist.get_rank() if distributed else 0
    try:
        recs = _load(args.inputs)
        job = T.prepare(recs, model_name=args.model, model_config=json.loads(args.config),
                        window=WindowSpec(args.window_ms, args.stride_ms), filter_spec=_filter_spec(args, recs)[0],
                        split_args={"n_blocks": args.blocks}, seed=args.seed)
        cfg = T.TrainConfig(max_epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                            seed=args.seed, progress_every=0, device=device)
        ddp = None
        if distributed:
            job.model.to(device)
            ddp = torch.nn.parallel.DistributedDataParallel(
                job.model, device_ids=[torch.device(device).index] if device.startswith("cuda") else None)
        ev = None
        for ev in T.train(job.model, job.dataset("train"), job.dataset("val"), cfg, ddp_model=ddp):
            if ev.kind == "epoch" and rank == 0:
                log.warning("epoch %d train %.5f val %.5f", ev.epoch, ev.train_loss, ev.val_loss)
        assert ev is not None and ev.result is not None, "train() ends with a done event"
        if rank == 0:
            m, _, _ = T.evaluate_job(job, set_name="test")
            C.save(T.make_checkpoint(job, cfg, ev.result, {"test": m}), args.out)
            print_line({"world_size": dist.get_world_size() if distributed else 1,
                        "best_epoch": ev.result["best_epoch"], "best_val_loss": ev.result["best_val_loss"],
                        "history": ev.result["history"], "test_r2_mean": m["r2_mean"]})
    finally:
        if distributed:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
