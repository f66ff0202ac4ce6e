"""Full-resolution painting: any instance-normalised network, tile by tile, with its norm statistics taken from a
thumbnail (URST, Chen et al. 2022), so a 12-megapixel photo comes back at 12 megapixels in bounded memory with
no seam."""
from models.fullres.normstats import NormStats, install_norm_hooks
from models.fullres.painter import THUMB_SIDE, TILE, FullResPainter, measure_reach
from models.fullres.seams import seam_peak, seam_ratios, step_profiles
from models.fullres.tiles import Tile, borders, thumbnail, tile_grid

__all__ = ["THUMB_SIDE", "TILE", "FullResPainter", "NormStats", "Tile", "borders", "install_norm_hooks",
           "measure_reach", "seam_peak", "seam_ratios", "step_profiles", "thumbnail", "tile_grid"]
