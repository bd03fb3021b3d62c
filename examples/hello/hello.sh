#!/bin/sh
cat /usr/share/hello/greeting.txt
