"""The real-data workloads' datasets (the GPU suite): read from ``--data-dir``, never downloaded.

- ``cifar10``: the ``cifar-10-batches-py`` pickles, held on the device as uint8, with
  random-crop + flip augmentation done on the device inside the batch stream;
- ``fineweb_tokens``: modded-nanogpt's FineWeb shards of GPT-2 tokens;
- ``imagefolder``: ``train/<class>/*.jpg`` and ``val/<class>/*.jpg`` (ImageNet), decoded
  with Pillow by a multi-worker DataLoader;

Their models (``resnet18_cifar``, ``resnet50``, ``gpt2``) are parts like any other
(:mod:`optbench.workloads.parts.models_large`).

This package's ``__init__`` imports nothing: :mod:`.formats` (the file formats and their
checks) needs only numpy and Pillow, so ``optbench data check`` runs without torch. The
torch parts register themselves when :mod:`optbench.workloads.parts` imports them.
``fake_data`` writes tiny folders in the same formats (for tests and the ``gpu_tiny`` suite).
"""
