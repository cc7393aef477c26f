"""workbench: Jupyter panels and plotly figures over ``bytepiece_core`` (in progress)."""

__all__: list[str] = []
