"""Terminal pages: `iclock` the ZKTeco push protocol (/iclock/), `hr` HR's pages (/hr/devices/)."""
