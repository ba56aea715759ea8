"""Stock that moves between points: transfers (调拨) and rotation batches (图书流转)."""
