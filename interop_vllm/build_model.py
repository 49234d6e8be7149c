"""Builds the tiny random-weight Llama the real-vLLM tests serve, reproducibly and offline.

A byte-level BPE tokenizer trained on a fixed text, and Llama weights drawn from a fixed seed (head_dim 64,
which vLLM's CPU attention supports). The text it generates is noise: the tests check bytes and signatures,
not words. Usage: build_model.py OUT_DIR (skips when OUT_DIR/.complete names this recipe).
"""

import json
import sys
from pathlib import Path

RECIPE = "tiny-llama-v1 seed=0 vocab=512 hidden=128 layers=2 heads=2 head_dim=64"
# A chat template in the Llama-2 spirit, enough for chat completions, Responses and Messages.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m['content'] is string %}{% set text = m['content'] %}"
    "{% else %}{% set text = m['content'] | map(attribute='text') | join('') %}{% endif %}"
    "<|{{ m['role'] }}|>{{ text }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def corpus():
    words = (
        "hello world say the a of to in is you that it he was for on are as with his they at be this have from "
        "or one had by word but not what all were we when your can said there use an each which she do how "
        "their if will up other about out many then them these so some her would make like him into time has "
        "look two more write go see number no way could people my than first water been call who oil its now "
        "find long down day did get come made may part user assistant system message response embed rerank "
        "score query document tiny llama vllm proxy signature 0 1 2 3 4 5 6 7 8 9 . , ! ? : ; ' \" ( ) { } [ ]"
    ).split()
    # Deterministic sentences: word i followed by words at fixed strides.
    for i in range(len(words)):
        yield " ".join(words[(i * k) % len(words)] for k in range(1, 24))


def build(out: Path):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    special = ["<unk>", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|system|>", "<|developer|>", "<|tool|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(list(corpus()), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="</s>",
        model_max_length=512,
    )
    fast.chat_template = CHAT_TEMPLATE

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, head_dim=64, max_position_embeddings=512,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
        tie_word_embeddings=False, torch_dtype="float32",
    )
    model = LlamaForCausalLM(config).to(torch.float32)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    fast.save_pretrained(out)
    (out / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    (out / ".complete").write_text(RECIPE + "\n")


def main():
    out = Path(sys.argv[1])
    stamp = out / ".complete"
    if stamp.exists() and stamp.read_text().strip() == RECIPE:
        print(f"model: up to date ({out})")
        return
    build(out)
    print(json.dumps({"model": str(out), "recipe": RECIPE}))


if __name__ == "__main__":
    main()
