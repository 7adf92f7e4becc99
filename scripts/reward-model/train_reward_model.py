#!/usr/bin/env python3
"""Train a reward model on Winnow's feedback, on a GPU machine or cluster, and export it to ONNX.

Winnow's own ranker learns on your machine from your accept/reject events (the built-in
trainer). When you outgrow it -- more data, several developers, a transformer that reads the
code itself -- train a reward model where GPUs are, and plug the exported folder back into
Winnow with the setting `winnow.ranker.rewardModel`.

Input: the JSONL that `winnow export --out pairs.jsonl` (or "Winnow: Export Dataset") writes,
one triplet per line: {"prompt": text before the cursor, "suffix": text after it, "chosen",
"rejected", "weight", "split": "train" | "validation", ...}.

The text the model is trained on is laid out as Winnow scores it at serving time
(docs/reward-model.md): the context (`prompt`) followed by the candidate, as one sequence with
the tokenizer's special tokens; TRL's RewardTrainer tokenizes a prompt + completion pair the
same way. Keep --max-length at or under `winnow.ranker.rewardModelMaxTokens`, and note that
Winnow cuts the context from its left while TRL truncates the end: long prompts are cut here
from the left to match (see truncate_left).

One GPU:
    pip install "trl>=0.20" "transformers>=4.50" datasets accelerate "optimum[onnxruntime]>=1.24"
    python scripts/reward-model/train_reward_model.py --data pairs.jsonl \
        --model deepseek-ai/deepseek-coder-1.3b-base --out rm-1.3b

Several GPUs or nodes (DeepSpeed ZeRO-3, config beside this script):
    accelerate launch --config_file scripts/reward-model/accelerate_zero3.yaml \
        scripts/reward-model/train_reward_model.py --data pairs.jsonl \
        --model deepseek-ai/deepseek-coder-6.7b-base --out rm-6.7b --bf16

Then export and plug in (this script runs the export itself unless --no-export):
    optimum-cli export onnx --task text-classification --model rm-1.3b rm-1.3b-onnx
    # VS Code setting:  "winnow.ranker.rewardModel": "/abs/path/rm-1.3b-onnx"

What was run where: this script was written and syntax-checked in Winnow's development
environment, which has no GPU and cannot download weights; it has not been run there end to
end. Its calls follow TRL's RewardTrainer/RewardConfig and optimum's ONNX export as documented.
"""

import argparse
import json
import os
import subprocess
import sys


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="JSONL from `winnow export`")
    p.add_argument("--model", required=True, help="base model (Hugging Face id or folder), e.g. deepseek-ai/deepseek-coder-1.3b-base")
    p.add_argument("--out", required=True, help="output folder of the trained model")
    p.add_argument("--max-length", type=int, default=1024, help="tokens per (context, candidate); <= winnow.ranker.rewardModelMaxTokens")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--batch-size", type=int, default=8, help="per device")
    p.add_argument("--grad-accum", type=int, default=4)
    p.add_argument("--bf16", action="store_true", help="bf16 training (Ampere or newer)")
    p.add_argument("--no-export", action="store_true", help="skip the ONNX export at the end")
    p.add_argument("--fp16-export", action="store_true", help="export fp16 weights (CUDA only; ONNX file model.onnx in fp16)")
    return p.parse_args()


def read_triplets(path: str):
    train, validation = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                t = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON ({e}); is this the output of `winnow export`?")
            for k in ("prompt", "chosen", "rejected"):
                if not isinstance(t.get(k), str):
                    sys.exit(f"{path}:{n}: no string field {k!r}; is this the output of `winnow export`?")
            row = {"prompt": t["prompt"], "chosen": t["chosen"], "rejected": t["rejected"]}
            (validation if t.get("split") == "validation" else train).append(row)
    if not train:
        sys.exit(f"{path}: no training triplets")
    return train, validation


def truncate_left(rows, tokenizer, max_length: int):
    """Cuts each prompt from its left so that prompt + the longer completion fits, as Winnow does."""
    out = []
    for r in rows:
        cand = max(len(tokenizer(r["chosen"], add_special_tokens=False)["input_ids"]), len(tokenizer(r["rejected"], add_special_tokens=False)["input_ids"]))
        room = max(0, max_length - cand - 2)
        ids = tokenizer(r["prompt"], add_special_tokens=False)["input_ids"]
        prompt = tokenizer.decode(ids[len(ids) - room:]) if len(ids) > room else r["prompt"]
        out.append({**r, "prompt": prompt})
    return out


def main() -> None:
    a = parse_args()
    # Imported here so that --help works without the training stack.
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    train, validation = read_triplets(a.data)
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(a.model, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id

    train = truncate_left(train, tokenizer, a.max_length)
    validation = truncate_left(validation, tokenizer, a.max_length)
    config = RewardConfig(
        output_dir=a.out,
        num_train_epochs=a.epochs,
        learning_rate=a.lr,
        per_device_train_batch_size=a.batch_size,
        per_device_eval_batch_size=a.batch_size,
        gradient_accumulation_steps=a.grad_accum,
        max_length=a.max_length,
        bf16=a.bf16,
        eval_strategy="epoch" if validation else "no",
        save_strategy="epoch",
        logging_steps=10,
        report_to="none",
    )
    trainer = RewardTrainer(
        model=model,
        args=config,
        processing_class=tokenizer,
        train_dataset=Dataset.from_list(train),
        eval_dataset=Dataset.from_list(validation) if validation else None,
    )
    trainer.train()
    if validation:
        print(json.dumps(trainer.evaluate(), indent=2))
    trainer.save_model(a.out)
    tokenizer.save_pretrained(a.out)

    if a.no_export or int(os.environ.get("RANK", "0")) != 0:
        return
    onnx_dir = a.out.rstrip("/") + "-onnx"
    cmd = ["optimum-cli", "export", "onnx", "--task", "text-classification", "--model", a.out, onnx_dir]
    if a.fp16_export:
        cmd += ["--dtype", "fp16", "--device", "cuda"]
    print("exporting:", " ".join(cmd))
    subprocess.run(cmd, check=True)
    print(f'done: set "winnow.ranker.rewardModel": "{os.path.abspath(onnx_dir)}" in VS Code')


if __name__ == "__main__":
    main()
