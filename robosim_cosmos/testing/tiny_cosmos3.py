"""A tiny, random-weight Cosmos3OmniPipeline built entirely offline.

It has the same components and on-disk layout as a real Cosmos 3 checkpoint
(``transformer/ vae/ scheduler/ text_tokenizer/`` plus ``model_index.json``), so code
that loads a real checkpoint can be exercised in tests without any download. Its
outputs are meaningless noise; only shapes, dtypes and plumbing are realistic.

torch, diffusers, transformers and tokenizers are imported lazily so importing
``robosim_cosmos.testing`` costs nothing when they are absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._optional import require

# Special tokens the pipeline looks up by name (``<|vision_start|>`` starts generation,
# ``<|im_end|>`` is the eos), plus the usual chat-template markers.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
)

# A minimal ChatML-style template: enough for ``apply_chat_template`` with a system and a
# user turn and ``add_generation_prompt``; extra kwargs the pipeline passes are ignored.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Architecture of the tiny transformer (see DESIGN.md section 5). patch_latent_dim must
# equal latent_channel * latent_patch_size**2, and sum(rope_axes_dim) * 2 == head_dim.
TRANSFORMER_CONFIG: dict[str, Any] = {
    "head_dim": 16,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "num_hidden_layers": 2,
    "latent_channel": 16,
    "latent_patch_size": 1,
    "patch_latent_dim": 16,
    "rope_axes_dim": [4, 2, 2],
    "action_gen": True,
    "action_dim": 32,
    "num_embodiment_domains": 32,
}

VAE_CONFIG: dict[str, Any] = {
    "base_dim": 4,
    "z_dim": 16,
    "dim_mult": [1, 1, 1, 1],
    "num_res_blocks": 1,
    "temperal_downsample": [False, True, True],
}

SCHEDULER_CONFIG: dict[str, Any] = {
    "prediction_type": "flow_prediction",
    "use_flow_sigmas": True,
    "flow_shift": 5.0,
}


def build_tiny_tokenizer() -> Any:
    """A byte-level BPE tokenizer (256 byte symbols, no merges) plus the special tokens.

    Returns a ``transformers.PreTrainedTokenizerFast``.
    """
    tokenizers = require("tokenizers")
    transformers = require("transformers")

    # Byte-level pre-tokenization maps every byte to one printable symbol, so a vocab of
    # exactly those 256 symbols covers any UTF-8 text without merges.
    alphabet = sorted(tokenizers.pre_tokenizers.ByteLevel.alphabet())
    vocab = {symbol: index for index, symbol in enumerate(alphabet)}
    backend = tokenizers.Tokenizer(tokenizers.models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = tokenizers.decoders.ByteLevel()
    backend.add_special_tokens(list(SPECIAL_TOKENS))

    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_cosmos3_pipeline(seed: int = 0) -> Any:
    """Build a tiny random ``Cosmos3OmniPipeline`` (CPU, float32, safety checker off).

    Deterministic for a given ``seed``: weights are drawn after ``torch.manual_seed``
    under a forked RNG, so the caller's global torch RNG state is left untouched.
    """
    torch = require("torch")
    diffusers = require("diffusers")

    tokenizer = build_tiny_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        transformer = diffusers.Cosmos3OmniTransformer(
            vocab_size=len(tokenizer), **TRANSFORMER_CONFIG
        )
        vae = diffusers.AutoencoderKLWan(**VAE_CONFIG)
    scheduler = diffusers.UniPCMultistepScheduler(**SCHEDULER_CONFIG)

    pipeline = diffusers.Cosmos3OmniPipeline(
        transformer=transformer.eval(),
        text_tokenizer=tokenizer,
        vae=vae.eval(),
        scheduler=scheduler,
        safety_checker=None,
        # Without this the constructor instantiates the guardrail, which needs the
        # separate cosmos_guardrail package.
        enable_safety_checker=False,
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def save_tiny_cosmos3_pipeline(path: str | Path, seed: int = 0) -> Path:
    """Build the tiny pipeline and ``save_pretrained`` it to ``path``; returns the path.

    The folder then loads with ``Cosmos3OmniPipeline.from_pretrained`` exactly like a
    real checkpoint.
    """
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    build_tiny_cosmos3_pipeline(seed=seed).save_pretrained(out, safe_serialization=True)
    return out
