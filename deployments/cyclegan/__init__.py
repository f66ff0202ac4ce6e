"""CycleGAN ResNet generators in pure torch: the network, checkpoint adapters, and image-in/image-out inference."""
from deployments.cyclegan.checkpoints import ADAPTERS, CheckpointError, load_generator
from deployments.cyclegan.generator import ResnetGenerator
from deployments.cyclegan.inference import GeneratorRunner

__all__ = ["ADAPTERS", "CheckpointError", "GeneratorRunner", "ResnetGenerator", "load_generator"]
