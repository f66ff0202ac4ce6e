"""Pure model code: the engines (torch), image I/O (PIL) and the weights they load. No Ray, aiogram or
Starlette here: everything is usable from a script or a notebook."""
