"""One URLconf per mount: `iclock` at /iclock/, `hr` at /hr/devices/."""
