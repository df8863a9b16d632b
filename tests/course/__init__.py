"""Tests of the course of infusions (ketascreen-course/1)."""
