"""CycleGAN ResNet generators in pure torch: the network, checkpoint adapters, and image-in/image-out inference."""
from models.cyclegan.checkpoints import ADAPTERS, CheckpointError, load_generator
from models.cyclegan.network import ResnetGenerator
from models.cyclegan.inference import GeneratorRunner

__all__ = ["ADAPTERS", "CheckpointError", "GeneratorRunner", "ResnetGenerator", "load_generator"]
