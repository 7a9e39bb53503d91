import sys

from keras_wgangp.cli import main

sys.exit(main())
