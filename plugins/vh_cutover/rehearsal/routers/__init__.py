"""One APIRouter per stand-in system, plus the control router."""
