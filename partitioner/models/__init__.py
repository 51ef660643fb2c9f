"""Model families defined in the project (torchvision and timm cannot be imported here)."""
