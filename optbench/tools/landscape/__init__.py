"""``optbench landscape``: loss landscapes and sharpness around a trial's final weights (Li et al. 2018).

``geometry`` holds the mathematics (directions, filter normalisation, slices, Hessian power
iteration); ``command`` reads a trial folder, measures and draws.
"""
